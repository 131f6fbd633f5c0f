"""Per-application services and the per-request database session."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.aeo.service import AeoStanding
from app.intake.service import Intake
from app.rules.assessment import RuleSet
from app.domain.risk import LaneThresholds
from app.risk.scoring import RiskEngine
from app.services.cache import TtlCache
from app.services.declarations import Caller


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    intake: Intake
    rule_set: RuleSet
    api_keys: TtlCache[str, Caller]
    aeo_standings: TtlCache[tuple[str, date], AeoStanding]
    write_gate: Callable[[], AbstractContextManager[None]]
    risk: RiskEngine | None = None  # loaded once per process (app.risk.scoring)
    risk_history: TtlCache[str, int] = field(default_factory=lambda: TtlCache(60))  # importer counts
    risk_thresholds: TtlCache[str, LaneThresholds | None] = field(default_factory=lambda: TtlCache(600))


def services() -> Services:
    return current_app.extensions["csw"]


def db() -> Session:
    """The request's session, opened on first use and closed (rolled back if uncommitted)
    at teardown."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = services().sessions()
    return session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
