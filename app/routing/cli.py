"""``csw dispatch``, ``csw subscribers ...`` and ``csw outbox ...``.

Registered on the main group in ``app/cli.py``. Each command runs in one transaction; a
change is recorded on the subscriber's history with the actor ``cli:<os user>``.
"""
from __future__ import annotations

import getpass
import json
import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType

import click
from sqlalchemy.orm import Session

from app.config import Settings
from app.platform.commands import database as command_database
from app.platform.commands import transaction as command_transaction
from app.domain.problems import Rejection
from app.logs import configure_logging
from app.routing import subscribers as service
from app.routing.dispatcher import Dispatcher, update_backlog_gauge
from app.routing.outbox import SUBSCRIBER_ROLES
from app.routing.settings import DispatchSettings

log = logging.getLogger("csw.routing")


@contextmanager
def _transaction() -> Iterator[Session]:
    try:
        with command_transaction(Settings.from_env()) as session:
            yield session
    except Rejection as exc:
        problems = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems)
        raise click.ClickException(f"{exc.message}{': ' + problems if problems else ''}") from None


def _when(moment: datetime) -> str:
    """UTC, to the second."""
    return moment.isoformat(timespec="seconds")


def _actor() -> str:
    """Who ran the command, for the subscriber's history."""
    return f"cli:{getpass.getuser()}"


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", type=float, default=None,
              help="Seconds between polls (default CSW_DISPATCH_INTERVAL_SECONDS or 2).")
def dispatch(once: bool, interval: float | None) -> None:
    """Deliver outbox messages (a worker beside the web service; several may run at once)."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    dispatch_settings = DispatchSettings.from_env()
    database = command_database(settings)
    dispatcher = Dispatcher(database, dispatch_settings)
    stopping: list[bool] = []

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = interval if interval is not None else dispatch_settings.interval_seconds
    try:
        while not stopping:
            if once:
                click.echo(json.dumps(dispatcher.drain().as_dict()))
                break
            try:
                report = dispatcher.run_once()
                with database.reading() as session:
                    update_backlog_gauge(session)
            except Exception:  # noqa: BLE001 - a worker outlives a database restart
                log.exception("dispatch round failed; retrying in %.1f s", pause)
                time.sleep(pause)
                continue
            if report.subscribers:
                log.info("dispatched", extra={"fields": report.as_dict()})
            else:
                time.sleep(pause)
    finally:
        dispatcher.close()


@click.group("subscribers")
def subscribers() -> None:
    """Receivers of routed messages (webhook, AMQP, pull queue)."""


@subscribers.command("add")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(SUBSCRIBER_ROLES), required=True,
              help="party: an organisation (gets what is addressed to its party); the others act at a place.")
@click.option("--transport", type=click.Choice(service.TRANSPORTS), default="webhook", show_default=True)
@click.option("--url", default=None, help="Webhook URL, or AMQP URL (default CSW_AMQP_URL).")
@click.option("--code", default=None, help="Control point (HKLMC...) or boundary (shenzhen, zhuhai_macao).")
@click.option("--party", "party_identifier", default=None, help="The party's identifier (BR number).")
@click.option("--format", "fmt", type=click.Choice(service.FORMATS), default="xml", show_default=True)
@click.option("--exchange", default=None, help="AMQP topic exchange (default CSW_AMQP_EXCHANGE or csw.routing).")
@click.option("--note", default=None, help="Why (kept on the subscriber's history).")
def subscribers_add(name: str, role: str, transport: str, url: str | None, code: str | None,
                    party_identifier: str | None, fmt: str, exchange: str | None, note: str | None) -> None:
    """Register a subscriber; a webhook's signing secret is printed once, on the last line."""
    with _transaction() as session:
        subscriber = service.add_subscriber(session, name, role, transport, url, code, party_identifier, fmt, exchange,
                                            actor=_actor(), note=note)
        click.echo(f"subscriber {subscriber.id} {subscriber.name}: {role} {code or party_identifier} via {transport}")
        if transport == "webhook":
            click.echo("signing secret (HMAC-SHA256, shown once):")
            click.echo(subscriber.secret)


@subscribers.command("list")
def subscribers_list() -> None:
    """Subscribers with state, backlog, dead letters and delivered count."""
    with _transaction() as session:
        click.echo(f"{'id':>4}  {'name':<24} {'role':<16} {'code':<12} {'transport':<8} {'state':<8} "
                   f"{'backlog':>7} {'dead':>5} {'delivered':>9}  last error")
        for item in service.health(session):
            s = item.subscriber
            code = s.code or (str(s.party_id) if s.party_id else "")
            click.echo(f"{s.id:>4}  {s.name:<24} {s.role:<16} {code:<12} {s.transport:<8} {s.state:<8} "
                       f"{item.backlog:>7} {item.dead:>5} {item.delivered:>9}  {s.last_error or ''}")


@subscribers.command("pause")
@click.argument("subscriber")
@click.option("--note", default=None, help="Why (kept on the subscriber's history).")
def subscribers_pause(subscriber: str, note: str | None) -> None:
    """Stop delivering to SUBSCRIBER (name or id); messages keep queueing."""
    with _transaction() as session:
        click.echo(f"paused {service.pause(session, subscriber, actor=_actor(), note=note).name}")


@subscribers.command("resume")
@click.argument("subscriber")
@click.option("--note", default=None, help="Why (kept on the subscriber's history).")
def subscribers_resume(subscriber: str, note: str | None) -> None:
    """Deliver to SUBSCRIBER again (also lifts an automatic block at once)."""
    with _transaction() as session:
        click.echo(f"resumed {service.resume(session, subscriber, actor=_actor(), note=note).name}")


@subscribers.command("history")
@click.argument("subscriber")
def subscribers_history(subscriber: str) -> None:
    """Everything that happened to SUBSCRIBER (name or id): when, what, by whom, detail, why.
    The dispatcher's automatic blocks and unblocks appear as ``system:dispatcher``."""
    with _transaction() as session:
        for event in service.history(session, subscriber):
            detail = json.dumps(event.detail, sort_keys=True, separators=(",", ":")) if event.detail else ""
            click.echo(f"{_when(event.occurred_at)}\t{event.kind}\t{event.actor}\t{detail}\t{event.note or ''}")


@click.group("outbox")
def outbox() -> None:
    """Dead letters: list and replay."""


@outbox.command("list")
@click.option("--subscriber", default=None)
@click.option("--limit", type=int, default=100, show_default=True)
def outbox_list(subscriber: str | None, limit: int) -> None:
    """Dead letters (refused by their receiver after the allowed tries)."""
    with _transaction() as session:
        for message in service.dead_letters(session, subscriber, limit):
            click.echo(f"{message.id}\t{message.subscriber_id}\t{message.message_type}\t{message.subject}\t"
                       f"{message.attempts}\t{message.last_error or ''}")


@outbox.command("replay")
@click.option("--subscriber", default=None, help="Only this subscriber's dead letters.")
@click.option("--id", "message_ids", type=int, multiple=True, help="Only these messages (repeatable).")
@click.option("--note", default=None, help="Why (kept on each subscriber's history).")
def outbox_replay(subscriber: str | None, message_ids: tuple[int, ...], note: str | None) -> None:
    """Queue dead letters again; the dispatcher delivers them on its next run."""
    with _transaction() as session:
        count = service.replay(session, subscriber, message_ids, actor=_actor(), note=note)
        click.echo(f"replayed {count} message(s)")
