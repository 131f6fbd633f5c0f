"""``csw seed`` creates the demo traders and ``csw users create --role trader --party`` binds
an account to its party; the account then signs in to the portal."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from app.cli import main
from app.config import Settings


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def test_seeded_and_created_traders_sign_in_to_their_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'csw.db'}"
    monkeypatch.setenv("CSW_DATABASE_URL", url)
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    assert run("db", "upgrade")[0] == 0
    code, output = run("seed")
    assert code == 0 and "demo trader account trader (party 12345678)" in output
    assert "demo trader account trader" in run("seed")[1]  # idempotent
    code, output = run("users", "create", "--username", "clerk", "--role", "trader", "--party", "87654321",
                       "--password-stdin", stdin="clerk-password-1\n")
    assert code == 0, output
    code, output = run("users", "create", "--username", "lost", "--role", "trader", "--password-stdin",
                       stdin="lost-password-12\n")
    assert code != 0 and "needs its party" in output
    code, output = run("users", "create", "--username", "lost", "--role", "trader", "--party", "99999999",
                       "--password-stdin", stdin="lost-password-12\n")
    assert code != 0 and "no party 99999999" in output
    assert "clerk\ttrader\ten\tactive\tnever\tparty 87654321" in run("users", "list")[1]
    app = create_app(Settings.from_env(database_url=url, instance_dir=tmp_path, secret_key="t", log_level="WARNING"))
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', login_page)
    assert token is not None
    client.post("/login", data={"username": "clerk", "password": "clerk-password-1", "csrf_token": token.group(1)})
    assert "Harbour Logistics Limited" in client.get("/trader/").get_data(as_text=True)
