"""Crash durability of the outbox dispatcher: ``csw dispatch`` workers (two at a time) are
killed with SIGKILL at random moments while they deliver to local webhook receivers and to
RabbitMQ; a worker started afterwards delivers the rest. Every outbox message arrives
(at least once), in outbox order per subject once de-duplicated by its idempotency key, and
every row ends ``delivered``. Runs on SQLite and PostgreSQL; loopback only.

Bounded for CI (a few rounds of a second or two); ``CSW_ROUTING_CRASH_ROUNDS`` runs more and
``CSW_ROUTING_CRASH_SEED`` repeats a failing run's kill moments (the seed is in the message).
"""
from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.config import PROJECT_ROOT
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.routing import MessageType
from app.routing import outbox, subscribers

ROUNDS = int(os.environ.get("CSW_ROUTING_CRASH_ROUNDS", "3"))
WEBHOOK_MESSAGES = 200   # per webhook subscriber: about 2 s of work at the receiver's 10 ms each
AMQP_MESSAGES = 400
SUBJECTS = 7
LEASE_SECONDS = 2  # > 2 x (webhook connect + read timeout, 0.4 s each)


class Sink:
    """A webhook receiver that records the idempotency key and subject of every request."""

    def __init__(self, delay: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.delay = delay
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(sink.delay)
                with sink.lock:
                    sink.received.append((self.headers["Idempotency-Key"], self.headers["X-CSW-Subject"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def sink() -> Iterator[Sink]:
    receiver = Sink(delay=0.01)
    yield receiver
    receiver.close()


def fill(app: Flask, subscriber_id: int, count: int) -> list[tuple[str, str]]:
    """``count`` release notices over ``SUBJECTS`` declarations; (key, subject) in outbox order."""
    now = datetime.now(timezone.utc)
    with app.extensions["csw"].sessions() as session, session.begin():
        target = session.get(Subscriber, subscriber_id)
        for n in range(count):
            outbox.enqueue(session, [target], MessageType.RELEASE_NOTICE,
                           f"declaration:S{subscriber_id}-{n % SUBJECTS}",
                           {"declaration_id": f"HK26D{n:011d}", "type_code": "IM", "status": "released",
                            "version": 1, "transport_mode_code": "3"}, "HKLMC", now)
    with app.extensions["csw"].sessions() as session:
        return [(key, subject) for key, subject in session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.subject)
            .where(OutboxMessage.subscriber_id == subscriber_id).order_by(OutboxMessage.id)).all()]


def statuses(app: Flask) -> dict[str, int]:
    with app.extensions["csw"].sessions() as session:
        return dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def until(condition: Callable[[], bool], seconds: float, why: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, why
        time.sleep(0.02)


def assert_all_in_order(received: list[tuple[str, str]], expected: list[tuple[str, str]], seed: int) -> None:
    """Every expected key arrived; per subject, first arrivals follow outbox order."""
    first: dict[str, str] = {}
    for key, subject in received:
        first.setdefault(key, subject)
    missing = {key for key, _ in expected} - set(first)
    assert not missing, f"seed {seed}: {len(missing)} message(s) never arrived"
    order = {key: index for index, key in enumerate(first)}
    for subject in {s for _, s in expected}:
        keys = [key for key, s in expected if s == subject]
        assert sorted(keys, key=order.__getitem__) == keys, f"seed {seed}: {subject} out of order"


def test_dispatchers_killed_at_random_moments_lose_nothing(
        clean_app: Flask, sink: Sink, rabbitmq_url: str, database_url: str) -> None:
    import pika

    seed = int(os.environ.get("CSW_ROUTING_CRASH_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    exchange, queue = f"csw.test.crash.{uuid.uuid4().hex[:8]}", f"csw.test.crash.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
    channel.queue_declare(queue=queue, exclusive=True)
    channel.queue_bind(queue=queue, exchange=exchange, routing_key="release_notice.#")
    workers: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "CSW_DATABASE_URL": database_url, "CSW_LOG_LEVEL": "CRITICAL",
           "CSW_DISPATCH_LEASE_SECONDS": str(LEASE_SECONDS), "CSW_DISPATCH_INTERVAL_SECONDS": "0.1",
           "CSW_DISPATCH_BATCH": "60", "CSW_WEBHOOK_TIMEOUT_SECONDS": "0.4", "CSW_AMQP_URL": rabbitmq_url}

    def start() -> subprocess.Popen[bytes]:
        worker = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "dispatch"],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(worker)
        return worker

    try:
        with clean_app.extensions["csw"].sessions() as session, session.begin():
            ids = [subscribers.add_subscriber(session, f"crash-hook-{n}", "control_point", "webhook", sink.url,
                                              "HKLMC", secret="s", actor="test").id for n in range(2)]
            amqp_id = subscribers.add_subscriber(session, "crash-amqp", "control_point", "amqp", rabbitmq_url,
                                                 "HKLMC", exchange=exchange, actor="test").id
        webhook_expected = [item for subscriber_id in ids for item in fill(clean_app, subscriber_id, WEBHOOK_MESSAGES)]
        amqp_expected = fill(clean_app, amqp_id, AMQP_MESSAGES)
        total = len(webhook_expected) + len(amqp_expected)

        for round_number in range(ROUNDS):
            pair = [start(), start()]
            seen = sink.count()
            until(lambda seen=seen: sink.count() > seen or statuses(clean_app).get("pending", 0) == 0, 90,
                  f"seed {seed}: round {round_number}: no worker delivered anything")
            for worker in pair:
                time.sleep(rng.uniform(0.0, 0.6))
                worker.send_signal(signal.SIGKILL)
                worker.wait()
            if round_number == 0:
                assert statuses(clean_app).get("pending", 0) > 0, f"seed {seed}: the workers died with no work left"

        final = start()
        until(lambda: statuses(clean_app) == {"delivered": total}, 90,
              f"seed {seed}: not everything delivered after the restart: {statuses(clean_app)}")
        final.send_signal(signal.SIGTERM)
        assert final.wait(timeout=15) == 0  # a clean stop on SIGTERM

        with sink.lock:
            received = list(sink.received)
        assert_all_in_order(received, webhook_expected, seed)
        published: list[tuple[str, str]] = []
        while (message := channel.basic_get(queue, auto_ack=True))[0] is not None:
            _, properties, _ = message
            published.append((properties.message_id, properties.headers["X-CSW-Subject"]))
        assert_all_in_order(published, amqp_expected, seed)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        channel.exchange_delete(exchange)
        connection.close()
