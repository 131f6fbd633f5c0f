"""What the command-line entry points share: sessions on the configured database.

Their sessions hand domain events to the process's handler table, which ``csw`` installs at
start-up (``app.bootstrap.install_handlers``), so a command's change reaches every capability
exactly as the same change made through the web does.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db.session import make_engine, write_gate
from app.platform.uow import Database, UnitOfWork, make_session_factory


def sessions(settings: Settings | None = None) -> sessionmaker[Session]:
    """A session factory on ``settings``' database (the environment's when not given)."""
    return make_session_factory(make_engine((settings or Settings.from_env()).database_url))


def database(settings: Settings | None = None) -> Database:
    """``settings``' database with its write gate: what jobs and the dispatcher run on."""
    settings = settings or Settings.from_env()
    return Database(sessions(settings), write_gate(settings.database_url))


def reading(settings: Settings | None = None) -> AbstractContextManager[Session]:
    """A session for a command that only reads: no write lock on SQLite, nothing committed."""
    return database(settings).reading()


def unit_of_work(settings: Settings | None = None) -> UnitOfWork:
    """A unit of work on a session of its own, behind the database's write gate."""
    return database(settings).unit_of_work()


@contextmanager
def transaction(settings: Settings | None = None) -> Iterator[Session]:
    """A command's change: a unit of work behind the write gate, committed (its events handled)
    when the block ends, rolled back if it raises."""
    with unit_of_work(settings) as uow:
        uow.write_lock()
        yield uow.session
        uow.commit()
