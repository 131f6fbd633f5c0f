"""``csw aeo``: import, officer actions, show, partners — on a migrated temporary SQLite."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.aeo.cli import aeo
from app.config import PROJECT_ROOT
from app.db import migrate, models
from app.db.session import make_engine
from app.platform.uow import make_session_factory

SAMPLE = PROJECT_ROOT / "samples" / "aeo" / "operators-with-errors.csv"
DAY = ["--today", "2026-11-22"]  # the sample's dates are set around this day


@pytest.fixture()
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'aeo.db'}"
    migrate.upgrade(url)
    monkeypatch.setenv("CSW_DATABASE_URL", url)
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("CSW_RULES_DIR", raising=False)
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(aeo, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def imported(cli_db: str) -> None:
    code, output = run("import", str(SAMPLE), *DAY, "--actor", "officer:import")
    assert code == 1, output


# -------------------------------------------------------------------------------- import


def test_import_reports_counts_and_the_bad_row_then_changes_nothing_the_second_time(cli_db: str) -> None:
    code, output = run("import", str(SAMPLE), *DAY)
    assert code == 1
    assert "operators-with-errors.csv: created 15, updated 0, unchanged 0, rejected 1" in output
    assert "line 17: 99887766: tier must be 1 or 2, got '3'" in output
    operators, events = count(cli_db, models.AeoOperator), count(cli_db, models.AeoStatusEvent)
    assert (operators, events) == (15, 15)

    code, output = run("import", str(SAMPLE), *DAY)
    assert code == 1
    assert "created 0, updated 0, unchanged 15, rejected 1" in output
    assert (count(cli_db, models.AeoOperator), count(cli_db, models.AeoStatusEvent)) == (15, 15)


def test_a_clean_file_exits_0_and_a_dry_run_stores_nothing(cli_db: str, tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:-1]))
    code, output = run("import", str(clean), *DAY, "--dry-run")
    assert code == 0 and output.startswith("dry run, nothing stored: clean.csv: created 15")
    assert count(cli_db, models.AeoOperator) == 0
    code, output = run("import", str(clean), *DAY)
    assert code == 0 and "created 15, updated 0, unchanged 0, rejected 0" in output
    assert count(cli_db, models.AeoOperator) == 15


def test_a_file_without_the_columns_is_refused_whole(cli_db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n12345678,Demo\n")
    code, output = run("import", str(bad), *DAY)
    assert code == 1 and "the header lacks operator_id" in output
    assert count(cli_db, models.AeoOperator) == 0


# ------------------------------------------------------------------------------- actions


def test_each_action_with_its_reason_and_actor_shows_in_the_history(cli_db: str) -> None:
    imported(cli_db)
    steps = [
        ("suspend", "12345678", "records not kept", "now suspended"),
        ("reinstate", "12345678", "records in order", "now active"),
        ("withdraw", "12345678", "left the programme", "now withdrawn"),
        ("renew", "12345678", "re-admitted after validation", "now active, valid 2026-11-22 to 2029-11-21"),
        ("renew", "31415926", "renewal approved", "now active, valid 2024-01-02 to 2030-01-01"),
        ("revoke", "87654321", "smuggling conviction", "now revoked"),
    ]
    for action, operator_id, reason, expected in steps:
        code, output = run(action, operator_id, "--reason", reason, *DAY, "--actor", "officer:chan")
        assert code == 0, output
        assert f"{operator_id}: {action} done; {expected}" in output

    code, output = run("show", "12345678", *DAY)
    assert code == 0
    assert "Demo Trading Company Limited" in output
    assert "status       active" in output and "tier         2" in output
    assert "valid        2026-11-22 to 2029-11-21" in output
    assert "renewal due  no (from 2029-05-21)" in output
    assert "recognised   yes (on 2026-11-22)" in output
    lines = [line for line in output.splitlines() if " -> " in line]
    assert len(lines) == 5
    assert "- -> active  by officer:import: imported from operators-with-errors.csv line 2" in lines[0]
    assert "active -> suspended  by officer:chan: suspend: records not kept" in lines[1]
    assert "withdrawn -> active  by officer:chan: renew: re-admitted after validation" in lines[4]

    code, output = run("show", "87654321", *DAY)
    assert "revoked on   2026-11-22" in output
    assert "recognised   no: the AEO registration was revoked on 2026-11-22" in output


def test_refused_actions_exit_1_with_the_reason(cli_db: str) -> None:
    imported(cli_db)
    events = count(cli_db, models.AeoStatusEvent)
    code, output = run("renew", "55667788", "--reason", "reapplied", *DAY)
    assert code == 1
    assert "READMISSION_BARRED" in output and "until 2027-06-30" in output
    code, output = run("reinstate", "12345678", "--reason", "not suspended", *DAY)
    assert code == 1 and "TRANSITION_NOT_ALLOWED" in output
    code, output = run("renew", "12345678", "--reason", "too early", *DAY)
    assert code == 1 and "RENEWAL_NOT_DUE" in output and "2027-09-30" in output
    code, output = run("suspend", "99999999", "--reason", "unknown", *DAY)
    assert code == 1 and "NOT_FOUND" in output
    code, output = run("suspend", "12345678", "--reason", "x", *DAY)
    assert code == 1 and "REASON_REQUIRED" in output
    assert count(cli_db, models.AeoStatusEvent) == events
    code, output = run("suspend", "12345678")
    assert code == 2 and "--reason" in output


def test_the_bar_ends_two_years_after_revocation(cli_db: str) -> None:
    imported(cli_db)
    code, output = run("renew", "55667788", "--reason", "reapplied", "--today", "2027-06-29")
    assert code == 1
    code, output = run("renew", "55667788", "--reason", "reapplied", "--today", "2027-06-30")
    assert code == 0 and "now active, valid 2027-06-30 to 2030-06-29" in output


def test_show_an_unknown_operator(cli_db: str) -> None:
    code, output = run("show", "99999999")
    assert code == 1 and "no AEO operator 99999999" in output


# ------------------------------------------------------------------------------ partners


def test_partners_lists_every_mra_and_marks_unconfirmed_dates(cli_db: str) -> None:
    code, output = run("partners", "--today", "2024-12-02")
    assert code == 0
    lines = output.splitlines()
    assert len(lines) == 18
    south_africa = next(line for line in lines if line.startswith("ZA"))
    assert "2024-12-03" in south_africa and "not in force" in south_africa
    peru = next(line for line in lines if line.startswith("PE"))
    assert "2025-12-30" in peru and "not in force" in peru and "[date unconfirmed]" in peru
    assert "[date unconfirmed]" in next(line for line in lines if line.startswith("MO"))


def test_a_broken_mra_file_is_reported_with_its_line(cli_db: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "rules"
    (rules / "aeo").mkdir(parents=True)
    (rules / "aeo" / "mra_partners.toml").write_text(
        '[[partner]]\neconomy = "JAPAN"\nname_en = "Japan"\nname_zh = "日本"\nprogramme = "AEO"\n'
        "id_format = 'JP[0-9]{13}'\nexample = \"JP7010001012345\"\nin_force_from = 2017-12-15\n",
        encoding="utf-8")
    monkeypatch.setenv("CSW_RULES_DIR", str(rules))
    code, output = run("import", str(SAMPLE), *DAY)
    assert code == 1
    assert "the MRA partners cannot be used:" in output and "mra_partners.toml:2:" in output
