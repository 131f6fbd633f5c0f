"""On the embedded SQLite, the work ``csw serve`` runs beside the web (the outbox dispatcher and
the scheduled jobs, in the gunicorn master) writes through the same write gate as the web.

Why: writers queue on the gate (an flock, woken as soon as it is free). A background writer that
begins ``BEGIN IMMEDIATE`` without the gate takes SQLite's write lock beside it, so a trader's
declaration POST holding the gate meets SQLite's busy handler (naps of up to 100 ms, for up to
30 s) instead of the queue. And a background read takes no write lock at all.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from app.cli import main as csw
from app.config import Settings
from app.db import migrate
from app.db.routing_models import OutboxMessage, Subscriber
from app.db.session import write_gate
from app.domain.routing import DeliveryResult, MessageType
from app.platform.jobs import run_job
from app.platform.uow import Database
from app.routing import outbox, subscribers
from app.routing.dispatcher import Dispatcher
from app.routing.jobs import dispatch_tick
from app.routing.settings import DispatchSettings
from app.routing.transports import Attempt, Outgoing, Target
from app.transit.jobs import elock_overdue
from app.users.clients import create_client, ensure_party

WAIT_S = 2.0


class Accepting:
    """A receiver that takes every message at once."""

    def deliver(self, target: Target, messages: Sequence[Outgoing], deadline: float | None = None) -> list[Attempt]:
        return [Attempt(message.id, DeliveryResult.DELIVERED) for message in messages]

    def close(self) -> None:
        pass


@pytest.fixture()
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'csw.db'}"
    migrate.upgrade(url)
    app: Flask = create_app(Settings.from_env(database_url=url, instance_dir=tmp_path, secret_key="test",
                                              log_level="WARNING", release_green=False))
    return app.extensions["csw"].database


def _due_notice(database: Database) -> int:
    with database.sessions() as session, session.begin():
        target = subscribers.add_subscriber(session, "control-point", "control_point", "webhook",
                                            "http://127.0.0.1:9/hook", "HKLMC", secret="s", actor="test")
        outbox.enqueue(session, [target], MessageType.RELEASE_NOTICE, "declaration:HK26D00000000001",
                       {"declaration_id": "HK26D00000000001", "type_code": "IM", "status": "released",
                        "version": 1, "transport_mode_code": "3"}, "HKLMC", datetime.now(timezone.utc))
        return target.id


def _delivered(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).where(OutboxMessage.status == "delivered")) or 0


def _dispatcher(database: Database) -> Dispatcher:
    return Dispatcher(database, DispatchSettings(), transports={"webhook": Accepting(), "amqp": Accepting()})


def _while_held(hold: Callable[[], object], release: Callable[[], None], work: Callable[[], object]) -> bool:
    """Run ``work`` in a thread while ``hold()`` is in force; True if it finished before the release."""
    hold()
    worker = threading.Thread(target=work)
    try:
        worker.start()
        worker.join(WAIT_S)
        finished = not worker.is_alive()
    finally:
        release()
        worker.join()
    return finished


def _while_the_gate_is_held(tmp_path: Path, work: Callable[[], object]) -> bool:
    """As while a declaration POST holds the write gate (another process's flock on it)."""
    gate = write_gate(f"sqlite:///{tmp_path / 'csw.db'}")()
    return _while_held(gate.__enter__, lambda: gate.__exit__(None, None, None), work)


def _while_a_writer_holds_sqlite(tmp_path: Path, work: Callable[[], object]) -> bool:
    holder = sqlite3.connect(tmp_path / "csw.db", isolation_level=None, timeout=1)

    def release() -> None:
        holder.execute("ROLLBACK")
        holder.close()
    return _while_held(lambda: holder.execute("BEGIN IMMEDIATE"), release, work)


def test_the_dispatcher_queues_at_the_write_gate(database: Database, tmp_path: Path) -> None:
    _due_notice(database)

    finished = _while_the_gate_is_held(tmp_path, lambda: dispatch_tick(_dispatcher(database)))

    assert not finished, "the dispatcher wrote while a gated writer held the gate"
    assert _delivered(database) == 1


def test_a_scheduled_job_queues_at_the_write_gate(database: Database, tmp_path: Path) -> None:
    def overdue(session: Session, today: date) -> dict[str, object]:
        return elock_overdue(session, today)

    runs: list[object] = []
    finished = _while_the_gate_is_held(tmp_path, lambda: runs.append(run_job(database, "elock-overdue", overdue)))

    assert not finished, "the job wrote while a gated writer held the gate"
    assert [getattr(run, "outcome", None) for run in runs] == ["ok"]


def test_an_idle_dispatcher_tick_waits_for_no_writer(database: Database, tmp_path: Path) -> None:
    """Nothing due: the tick only reads (who has messages due, the backlog gauge)."""
    finished = _while_a_writer_holds_sqlite(tmp_path, lambda: dispatch_tick(_dispatcher(database)))

    assert finished, "an idle dispatcher tick waited for the write lock"


def test_the_dispatcher_still_delivers_and_records(database: Database) -> None:
    subscriber_id = _due_notice(database)

    report = dispatch_tick(_dispatcher(database))

    assert report["delivered"] == 1
    with database.sessions() as session:
        held = session.get(Subscriber, subscriber_id)
        assert held is not None and held.lease_owner is None and held.last_delivered_at is not None


def test_a_read_only_command_answers_while_a_writer_holds_the_lock(database: Database, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator's ``csw clients list`` beside a busy server neither waits for its writers nor
    makes them wait (it took SQLite's write lock outside the gate)."""
    monkeypatch.setenv("CSW_DATABASE_URL", f"sqlite:///{tmp_path / 'csw.db'}")
    monkeypatch.setenv("CSW_INSTANCE_DIR", str(tmp_path))
    with database.writing() as session:
        create_client(session, "trader-tms", ensure_party(session, "12345678", "Demo Trading Company Limited"))
    listed: list[str] = []

    finished = _while_a_writer_holds_sqlite(
        tmp_path, lambda: listed.append(CliRunner().invoke(csw, ["clients", "list"], catch_exceptions=False).output))

    assert finished, "the command waited for the writer"
    assert "trader-tms" in listed[0]
