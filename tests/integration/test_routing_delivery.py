"""Delivery guarantees with a real local HTTP receiver: down then up, 5xx blocking with one
probe, 4xx dead letters and replay, a dispatcher killed mid-batch, several dispatchers at
once, and RabbitMQ with publisher confirms."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select, update

from app.cli import main as csw
from app.db.routing_models import OutboxMessage, Subscriber
from app.domain.routing import MessageType, RetryPolicy, verify
from app.routing import outbox, subscribers
from app.routing.dispatcher import Dispatcher
from app.routing.settings import DispatchSettings
from app.config import PROJECT_ROOT

SECRET = "test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """A webhook receiver on a fixed port that can be down (not listening), answer a chosen
    status, or be slow; it records every request and checks its signature."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.status = 200
        self.delay = 0.0
        self.refuse_subject: str | None = None
        self.refuse_once: set[str] = set()  # idempotency keys answered 422 the first time only
        self.received: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                subject = self.headers["X-CSW-Subject"]
                refused = receiver.refuse_subject and subject.endswith(receiver.refuse_subject)
                status = 422 if refused else receiver.status
                with receiver._lock:
                    if self.headers["Idempotency-Key"] in receiver.refuse_once:
                        receiver.refuse_once.discard(self.headers["Idempotency-Key"])
                        status = 422
                    receiver.received.append({
                        "key": self.headers["Idempotency-Key"], "subject": subject, "status": str(status),
                        "signed": str(verify(SECRET, self.headers["X-CSW-Timestamp"], body,
                                             self.headers["X-CSW-Signature"]))})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[dict[str, str]]:
        with self._lock:
            return [r for r in self.received if r["status"] == "200"]


def settings(**overrides: object) -> DispatchSettings:
    values: dict[str, object] = {
        "batch_size": 50, "chunk_size": 10, "timeout_seconds": 2, "lease_seconds": 30,
        "retry": RetryPolicy(base_seconds=0.01, cap_seconds=0.05, max_attempts=3),
        "probe": RetryPolicy(base_seconds=3600, cap_seconds=3600)}
    values.update(overrides)
    return DispatchSettings(**values)  # type: ignore[arg-type]


def add(app: Flask, transport: str = "webhook", url: str | None = None, exchange: str | None = None) -> int:
    with app.extensions["csw"].sessions() as session, session.begin():
        return subscribers.add_subscriber(session, f"sub-{uuid.uuid4().hex[:8]}", "control_point", transport, url,
                                          "HKLMC", exchange=exchange, secret=SECRET,
                                          actor="test").id


def enqueue(app: Flask, subscriber_id: int, count: int, subjects: int = 3) -> list[tuple[str, str]]:
    """``count`` release notices over ``subjects`` declarations (per subscriber); returns (subject, key)
    in outbox order."""
    now = datetime.now(timezone.utc)
    with app.extensions["csw"].sessions() as session, session.begin():
        target = session.get(Subscriber, subscriber_id)
        for n in range(count):
            outbox.enqueue(session, [target], MessageType.RELEASE_NOTICE,
                           f"declaration:{subscriber_id}-D{n % subjects}",
                           {"declaration_id": f"HK26D{n:011d}", "type_code": "IM", "status": "released",
                            "version": 1, "transport_mode_code": "3"}, "HKLMC", now)
        rows = session.execute(select(OutboxMessage.subject, OutboxMessage.idempotency_key)
                               .where(OutboxMessage.subscriber_id == subscriber_id).order_by(OutboxMessage.id)).all()
    return [(subject, key) for subject, key in rows]


def subscriber(app: Flask, subscriber_id: int) -> Subscriber:
    with app.extensions["csw"].sessions() as session:
        return session.get(Subscriber, subscriber_id)


def statuses(app: Flask, subscriber_id: int) -> dict[str, int]:
    with app.extensions["csw"].sessions() as session:
        return dict(session.execute(select(OutboxMessage.status, func.count())
                                    .where(OutboxMessage.subscriber_id == subscriber_id)
                                    .group_by(OutboxMessage.status)).all())


def probe_now(app: Flask, subscriber_id: int) -> None:
    """Let the probe time arrive (instead of waiting out the back-off)."""
    with app.extensions["csw"].sessions() as session, session.begin():
        session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(
            next_probe_at=datetime.now(timezone.utc) - timedelta(seconds=1)))


def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def first_seen_in_order(received: list[dict[str, str]], expected: list[tuple[str, str]]) -> None:
    """Every expected message arrived (duplicates allowed: at least once), and per subject in
    outbox order once de-duplicated by Idempotency-Key."""
    seen: dict[str, None] = {}
    for item in received:
        seen.setdefault(item["key"], None)
    assert set(seen) == {key for _, key in expected}
    order = list(seen)
    for subject in {s for s, _ in expected}:
        keys = [key for s, key in expected if s == subject]
        assert sorted(keys, key=order.index) == keys


def test_receiver_down_then_up_gets_every_message_in_order(clean_app: Flask, receiver: Receiver) -> None:
    subscriber_id = add(clean_app, url=receiver.url)
    expected = enqueue(clean_app, subscriber_id, 30)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    report = dispatcher.run_once()
    assert report.unavailable == 1 and report.delivered == 0
    assert subscriber(clean_app, subscriber_id).state == "blocked"
    assert dispatcher.run_once().subscribers == set()  # blocked: nothing is tried before the probe time

    receiver.start()
    probe_now(clean_app, subscriber_id)
    dispatcher.drain()
    first_seen_in_order(receiver.accepted(), expected)
    assert all(r["signed"] == "True" for r in receiver.received)
    assert statuses(clean_app, subscriber_id) == {"delivered": 30}
    assert subscriber(clean_app, subscriber_id).state == "active"
    dispatcher.close()
    metrics = clean_app.test_client().get("/metrics").text
    assert 'csw_routing_deliveries_total{outcome="delivered",transport="webhook"}' in metrics
    assert 'csw_routing_deliveries_total{outcome="unavailable",transport="webhook"}' in metrics
    assert "csw_routing_delivery_latency_seconds_count" in metrics


def test_a_receiver_answering_500_is_blocked_and_probed_with_one_message(clean_app: Flask, receiver: Receiver) -> None:
    receiver.status = 500
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    expected = enqueue(clean_app, subscriber_id, 10)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    dispatcher.run_once()
    assert len(receiver.received) == 1 and subscriber(clean_app, subscriber_id).state == "blocked"
    dispatcher.run_once()
    dispatcher.run_once()
    assert len(receiver.received) == 1  # no hammering before the probe time

    probe_now(clean_app, subscriber_id)
    dispatcher.run_once()
    assert len(receiver.received) == 2  # the probe: one message, the oldest
    assert receiver.received[1]["key"] == expected[0][1]
    assert subscriber(clean_app, subscriber_id).consecutive_failures == 2

    receiver.status = 200
    probe_now(clean_app, subscriber_id)
    dispatcher.drain()
    first_seen_in_order(receiver.accepted(), expected)
    assert len(receiver.received) == 2 + 10
    assert subscriber(clean_app, subscriber_id).state == "active"
    dispatcher.close()


def test_a_receiver_that_times_out_is_blocked_like_a_5xx(clean_app: Flask, receiver: Receiver) -> None:
    receiver.delay = 1.0
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    enqueue(clean_app, subscriber_id, 3)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings(timeout_seconds=0.2))
    report = dispatcher.run_once()
    dispatcher.close()
    assert report.unavailable == 1 and report.delivered == 0
    blocked = subscriber(clean_app, subscriber_id)
    assert blocked.state == "blocked" and "ReadTimeoutError" in (blocked.last_error or "")
    assert statuses(clean_app, subscriber_id) == {"pending": 3}


def test_4xx_becomes_a_dead_letter_after_n_tries_and_replay_redelivers(
        clean_app: Flask, receiver: Receiver, database_url: str) -> None:
    receiver.refuse_subject = "-D1"
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    expected = enqueue(clean_app, subscriber_id, 6)  # D0, D1, D2, D0, D1, D2
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    until(lambda: dispatcher.drain() is not None and statuses(clean_app, subscriber_id).get("dead", 0) == 2)
    refused = [r for r in receiver.received if r["subject"].endswith("-D1")]
    assert len(refused) == 2 * 3  # each D1 message tried max_attempts times, one after the other
    assert statuses(clean_app, subscriber_id) == {"delivered": 4, "dead": 2}
    assert subscriber(clean_app, subscriber_id).state == "active"  # a refusal does not block the receiver

    receiver.refuse_subject = None
    env = {"CSW_DATABASE_URL": database_url}
    listed = CliRunner().invoke(csw, ["outbox", "list"], env=env)
    assert listed.exit_code == 0 and listed.output.count("HTTP 422") == 2
    replayed = CliRunner().invoke(csw, ["outbox", "replay", "--subscriber", str(subscriber_id)], env=env)
    assert replayed.exit_code == 0 and "replayed 2 message(s)" in replayed.output
    dispatcher.drain()
    assert statuses(clean_app, subscriber_id) == {"delivered": 6}
    first_seen_in_order(receiver.accepted(), expected)
    dispatcher.close()


def test_a_refused_message_is_not_overtaken_by_later_ones_about_the_same_subject(
        clean_app: Flask, receiver: Receiver) -> None:
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    expected = enqueue(clean_app, subscriber_id, 9)  # D0, D1, D2, D0, D1, D2, ...
    refused_key = expected[1][1]
    receiver.refuse_once.add(refused_key)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings())
    until(lambda: dispatcher.drain() is not None and statuses(clean_app, subscriber_id) == {"delivered": 9})
    dispatcher.close()
    assert [r["status"] for r in receiver.received if r["key"] == refused_key] == ["422", "200"]
    first_seen_in_order(receiver.accepted(), expected)
    d1 = [r["key"] for r in receiver.received if r["subject"].endswith("-D1")]
    assert d1 == [refused_key] + [key for subject, key in expected if subject.endswith("-D1")]


def test_a_dispatcher_killed_mid_batch_loses_nothing(clean_app: Flask, receiver: Receiver, database_url: str) -> None:
    receiver.delay = 0.02
    receiver.start()
    subscriber_id = add(clean_app, url=receiver.url)
    expected = enqueue(clean_app, subscriber_id, 120)
    env = {**os.environ, "CSW_DATABASE_URL": database_url, "CSW_DISPATCH_LEASE_SECONDS": "1",
           "CSW_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-c", "from app.cli import main; main()", "dispatch"],
                              cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(lambda: len(receiver.received) >= 15)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert statuses(clean_app, subscriber_id).get("pending", 0) > 0  # it died with work left
    time.sleep(1.1)  # the dead dispatcher's lease runs out
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings(batch_size=500))
    receiver.delay = 0
    dispatcher.drain()
    assert statuses(clean_app, subscriber_id) == {"delivered": 120}
    first_seen_in_order(receiver.accepted(), expected)
    dispatcher.close()


def test_several_dispatchers_at_once_deliver_each_message_once(clean_app: Flask, receiver: Receiver) -> None:
    receiver.start()
    ids = [add(clean_app, url=receiver.url) for _ in range(3)]
    expected = [item for subscriber_id in ids for item in enqueue(clean_app, subscriber_id, 40)]
    dispatchers = [Dispatcher(clean_app.extensions["csw"].database, settings(chunk_size=5)) for _ in range(3)]
    threads = [threading.Thread(target=d.drain) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    Dispatcher(clean_app.extensions["csw"].database, settings()).drain()
    keys = [r["key"] for r in receiver.received]
    assert len(keys) == len(set(keys)) == len(expected)  # no double delivery
    first_seen_in_order(receiver.received, expected)
    for dispatcher in dispatchers:
        dispatcher.close()


def test_rabbitmq_messages_arrive_on_a_bound_queue(clean_app: Flask, rabbitmq_url: str) -> None:
    import pika

    exchange, queue = f"csw.test.{uuid.uuid4().hex[:8]}", f"csw.test.{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    try:
        channel.exchange_declare(exchange=exchange, exchange_type="topic", auto_delete=False, durable=True)
        channel.queue_declare(queue=queue, exclusive=True)
        channel.queue_bind(queue=queue, exchange=exchange, routing_key="release_notice.HKLMC")
        subscriber_id = add(clean_app, transport="amqp", url=rabbitmq_url, exchange=exchange)
        expected = enqueue(clean_app, subscriber_id, 12)
        dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings(amqp_url=rabbitmq_url))
        assert dispatcher.drain().delivered == 12
        dispatcher.close()
        got = []
        while (message := channel.basic_get(queue, auto_ack=True))[0] is not None:
            method, properties, body = message
            got.append((properties.headers["X-CSW-Subject"], properties.message_id))
            assert method.routing_key == "release_notice.HKLMC" and body.startswith(b"<?xml")
        assert got == expected
        assert statuses(clean_app, subscriber_id) == {"delivered": 12}
    finally:
        channel.exchange_delete(exchange)
        connection.close()


def test_rabbitmq_without_a_bound_queue_blocks_the_subscriber(clean_app: Flask, rabbitmq_url: str) -> None:
    import pika

    exchange = f"csw.test.{uuid.uuid4().hex[:8]}"
    subscriber_id = add(clean_app, transport="amqp", url=rabbitmq_url, exchange=exchange)
    enqueue(clean_app, subscriber_id, 3)
    dispatcher = Dispatcher(clean_app.extensions["csw"].database, settings(amqp_url=rabbitmq_url))
    report = dispatcher.run_once()
    dispatcher.close()
    assert report.unavailable == 1 and report.delivered == 0
    blocked = subscriber(clean_app, subscriber_id)
    assert blocked.state == "blocked" and "unroutable" in (blocked.last_error or "")
    assert statuses(clean_app, subscriber_id) == {"pending": 3}
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    connection.channel().exchange_delete(exchange)
    connection.close()
