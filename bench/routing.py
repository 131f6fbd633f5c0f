"""Messages per second the outbox dispatcher delivers to a local webhook sink and to RabbitMQ.

Why: every release and manifest goes out through the outbox; the dispatcher must keep up with
intake (target >= 1,000 messages/s each way on this machine). The benchmark fills a fresh
database's outbox with N release notices for one subscriber, then times ``Dispatcher.drain``
(read batch, deliver, record outcomes) until every message is recorded delivered. The webhook
sink is a separate process (HTTP/1.1 keep-alive, answers 204 after reading the body); RabbitMQ
gets a topic exchange and a bound queue, publisher confirms on.

    .venv/bin/python -m bench.routing [--messages 5000] [--backend sqlite|postgresql] [--write-results]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from app.db import migrate
from app.db.routing_models import OutboxMessage
from app.db.session import make_engine, normalise_url, write_gate
from app.platform.uow import Database, make_session_factory
from app.domain.routing import MessageType
from app.routing import outbox
from app.routing.dispatcher import Dispatcher
from app.routing.settings import DispatchSettings
from app.routing.subscribers import add_subscriber
from bench.results import stamp, write_section

AMQP_URL = os.environ.get("CSW_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _sink(port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def _fill(sessions, subscriber_id: int, count: int) -> None:  # type: ignore[no-untyped-def]
    from app.db.routing_models import Subscriber

    now = datetime.now(timezone.utc)
    with sessions() as session, session.begin():
        target = session.get(Subscriber, subscriber_id)
        for n in range(count):
            outbox.enqueue(session, [target], MessageType.RELEASE_NOTICE, f"declaration:D{n % 50}",
                           {"declaration_id": f"HK26D{n:011d}", "type_code": "IM", "status": "released",
                            "version": 1, "transport_mode_code": "3", "control_point_id": "HKLMC"}, "HKLMC", now)


def _delivered(sessions, subscriber_id: int) -> int:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.subscriber_id == subscriber_id, OutboxMessage.status == "delivered")) or 0


def _run(database: Database, subscriber_id: int, count: int, settings: DispatchSettings) -> float:
    sessions = database.sessions
    _fill(sessions, subscriber_id, count)
    dispatcher = Dispatcher(database, settings)
    started = time.perf_counter()
    dispatcher.drain()
    elapsed = time.perf_counter() - started
    dispatcher.close()
    delivered = _delivered(sessions, subscriber_id)
    if delivered != count:
        raise SystemExit(f"only {delivered} of {count} delivered")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("CSW_BENCH_POSTGRES_URL",
                                                                 "postgresql+psycopg://127.0.0.1:5432/test"))
    parser.add_argument("--skip-amqp", action="store_true")
    parser.add_argument("--write-results", action="store_true", help="write the routing section of RESULTS.md")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="csw-bench-routing-"))
    if args.backend == "sqlite":
        url = f"sqlite:///{workdir / 'csw.db'}"
    else:
        url = args.postgres_url
        engine = create_engine(normalise_url(url))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)
    sessions = make_session_factory(make_engine(url))
    database = Database(sessions, write_gate(url))
    settings = DispatchSettings(batch_size=1000, chunk_size=250, amqp_url=AMQP_URL)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = multiprocessing.Process(target=_sink, args=(port,), daemon=True)
    sink.start()
    time.sleep(0.5)
    lines = [f"- {args.messages:,} release notices (XML, about 400 bytes each), one subscriber, "
             f"{args.backend}, batch {settings.batch_size}, outcomes recorded every {settings.chunk_size}"]
    try:
        with sessions() as session, session.begin():
            webhook = add_subscriber(session, "bench-webhook", "control_point", "webhook",
                                     f"http://127.0.0.1:{port}/hook", "HKLMC", actor="system:bench").id
        rate = _run(database, webhook, args.messages, settings)
        lines.append(f"- webhook (local sink process, keep-alive, HMAC-signed): **{rate:,.0f} messages/s**; "
                     "target >= 1,000/s")
    finally:
        sink.terminate()
    if not args.skip_amqp:
        import pika

        exchange, queue = f"csw.bench.{uuid.uuid4().hex[:8]}", f"csw.bench.{uuid.uuid4().hex[:8]}"
        connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        channel = connection.channel()
        channel.exchange_declare(exchange=exchange, exchange_type="topic", durable=True)
        channel.queue_declare(queue=queue)
        channel.queue_bind(queue=queue, exchange=exchange, routing_key="#")
        try:
            with sessions() as session, session.begin():
                amqp = add_subscriber(session, "bench-amqp", "control_point", "amqp", AMQP_URL, "HKLMC",
                                      exchange=exchange, actor="system:bench").id
            rate = _run(database, amqp, args.messages, settings)
            queued = channel.queue_declare(queue=queue, passive=True).method.message_count
            lines.append(f"- RabbitMQ (topic exchange, persistent messages, publisher confirms): "
                         f"**{rate:,.0f} messages/s** ({queued:,} on the bound queue); target >= 1,000/s")
        finally:
            channel.queue_delete(queue)
            channel.exchange_delete(exchange)
            connection.close()
    print("\n".join(lines))
    if args.write_results:
        section = "routing" if args.backend == "sqlite" else f"routing-{args.backend}"
        write_section(section, f"## Outbox dispatcher on {args.backend} (`bench/routing.py`)\n\n"
                      f"- {stamp()}, {os.cpu_count()} CPUs shared with the sink and the broker\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
