"""An acknowledgement's ``Location`` is what ``url_for`` builds for the declaration, wherever
the service is mounted, though its path is built once per mount point."""
from __future__ import annotations

import pytest
from flask import Flask, url_for

from app.web.api import _declaration_url


@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/csw/", "https://x.example/a/b/"])
def test_the_location_is_url_fors(app: Flask, base_url: str) -> None:
    for reference in ("CSW-2026-000001", "a.b_c-1", "0", "with space", "ünïcode", "a/b", "%41", "x?y#z"):
        with app.test_request_context("/api/v1/declarations", base_url=base_url):
            expected = url_for("api.get_declaration", reference=reference)
            assert _declaration_url(reference) == expected
            assert _declaration_url(reference) == expected  # and again, from the path kept
