"""The running application's wiring and the per-request database session and unit of work."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from app.bootstrap import Runtime
from app.platform.uow import UnitOfWork


def services() -> Runtime:
    runtime: Runtime = current_app.extensions["csw"]
    return runtime


def db() -> Session:
    """The request's session, opened on first use and closed (rolled back if uncommitted)
    at teardown."""
    session: Session | None = g.get("db_session")
    if session is None:
        session = g.db_session = services().sessions()
    return session


def unit_of_work() -> UnitOfWork:
    """The request's unit of work, on the request's session: a blueprint takes the write lock,
    calls a service and commits it; teardown rolls back and gives the gate back otherwise."""
    uow: UnitOfWork | None = g.get("uow")
    if uow is None:
        uow = g.uow = UnitOfWork(db(), services().write_gate)
    return uow


def close_session(_exc: BaseException | None = None) -> None:
    uow: UnitOfWork | None = g.pop("uow", None)
    if uow is not None:
        uow.close()
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
