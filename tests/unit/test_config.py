"""Settings read from the environment."""
from __future__ import annotations

import pytest

from app.config import Settings


@pytest.mark.parametrize(("raw", "expected"), [(None, 64 * 1024), ("1000", 1000), ("0", 0), ("junk", 64 * 1024)])
def test_how_long_a_document_may_be_to_join_a_group_commit(
        monkeypatch: pytest.MonkeyPatch, raw: str | None, expected: int) -> None:
    """``CSW_LODGE_ALONE_ABOVE_BYTES``: longer documents are lodged on their own (0: every one);
    junk keeps the default rather than stopping the service."""
    if raw is None:
        monkeypatch.delenv("CSW_LODGE_ALONE_ABOVE_BYTES", raising=False)
    else:
        monkeypatch.setenv("CSW_LODGE_ALONE_ABOVE_BYTES", raw)
    assert Settings.from_env().lodge_alone_above_bytes == expected
