"""A change of the rules in force is an event: recorded once per version, listed by
``csw rules history`` and sealed onto the audit chain like every other event."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from app.audit import service as audit
from app.cli import main
from app.config import PROJECT_ROOT
from app.rules.assessment import RuleSet
from app.rules.versions import history, record_activation
from tests.integration.test_audit import seeded_events


def test_a_new_rules_version_is_recorded_once_and_audited(clean_app: Flask, tmp_path: Path) -> None:
    sessions = clean_app.extensions["csw"].sessions
    now = datetime.now(timezone.utc)
    current = RuleSet.load(PROJECT_ROOT / "rules")
    edited_dir = tmp_path / "rules"
    shutil.copytree(PROJECT_ROOT / "rules", edited_dir)
    pack = edited_dir / "packs" / "core.toml"
    pack.write_text(pack.read_text(encoding="utf-8") + "\n# tightened by the rules team\n", encoding="utf-8")
    edited = RuleSet.load(edited_dir)
    assert edited.version != current.version

    with sessions() as session, session.begin():
        assert record_activation(session, current, "csw serve", now) is not None
        assert record_activation(session, current, "csw serve", now) is None
        event = record_activation(session, edited, "csw serve", now)
        assert event is not None and event.previous_version == current.version
    with sessions() as session:
        assert [e.version for e in history(session)] == [current.version, edited.version]
    with sessions() as session, session.begin():
        audit.seal(session, now)
    with sessions() as session:
        report = audit.verify(session, now)
    assert report.intact and report.rows == 2 + seeded_events(clean_app)  # and the demo fleet's registrations


def test_csw_rules_history_lists_versions(clean_app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSW_DATABASE_URL", clean_app.extensions["csw"].settings.database_url)
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        record_activation(session, clean_app.extensions["csw"].rule_set, "csw serve", datetime.now(timezone.utc))
    result = CliRunner().invoke(main, ["rules", "history"])
    assert result.exit_code == 0
    assert clean_app.extensions["csw"].rule_set.version in result.output and "csw serve" in result.output
