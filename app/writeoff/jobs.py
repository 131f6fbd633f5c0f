"""The daily write-off follow-up (wired into ``app.jobs.JOBS`` as ``cargo-write-off``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.platform.clock import utcnow
from app.writeoff import rules as writeoff_rules
from app.writeoff.service import follow_up


def cargo_write_off(session: Session, today: date) -> dict[str, object]:
    """Follow up every cargo line still not (fully) declared when its period ran out by
    ``today``: a case for officers and a notice to the party responsible, once per line."""
    rules = writeoff_rules.load(Settings.from_env().rules_dir)
    lines = follow_up(session, today, rules, actor="job:cargo-write-off", now=utcnow())
    return {"followed_up": lines, "day": today.isoformat()}
