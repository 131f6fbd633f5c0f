"""schemathesis against the live service: every operation of ``/api/v1/openapi.json``, with
generated valid and invalid inputs, as a trader's system and as an administrator; no answer
may be a server error or break the documented contract's status codes."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.served import DEMO_KEY, prepared_env, start, stop

pytestmark = pytest.mark.slow

SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
ADMIN_KEY = "csw_demo_admin_00000000000000000"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = prepared_env(tmp_path_factory.mktemp("contract"), CSW_API_RATE_LIMIT="100000 per second")
    process, base = start(env)
    try:
        yield base
    finally:
        stop(process)


@pytest.mark.parametrize("key", [DEMO_KEY, ADMIN_KEY], ids=["trader", "admin"])
def test_no_operation_answers_with_a_server_error(live: str, key: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [SCHEMATHESIS, "run", f"{live}/api/v1/openapi.json", "--checks", "not_a_server_error",
         "--header", f"Authorization: Bearer {key}", "--max-examples", "25", "--generation-deterministic",
         "--request-timeout", "5", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
