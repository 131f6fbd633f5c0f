"""Shared fixtures.

Integration tests run once per database backend: SQLite always, PostgreSQL when it
answers at ``CSW_TEST_POSTGRES_URL`` (default 127.0.0.1:5432/test). With
``CSW_REQUIRE_SERVICES=1`` (set by ``.ci/run``) an unreachable PostgreSQL fails the run
instead of skipping.
"""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, MetaData, Table, create_engine, event, select, text
from sqlalchemy.orm import Session

from app import create_app
from app.config import PROJECT_ROOT, Settings
from app.db import migrate
from app.db.models import Base
from app.db.session import DEFERRED, make_engine, normalise_url
from app.users.clients import create_client, ensure_party
from app.users.service import hash_password
from app.transit.service import seed_demo_fleet

SAMPLES = PROJECT_ROOT / "samples"
POSTGRES_URL = os.environ.get("CSW_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("CSW_REQUIRE_SERVICES") == "1"

TRADER_KEY = "csw_test_trader_key_0000000000000"
OTHER_KEY = "csw_test_other_key_00000000000000"
CARRIER_KEY = "csw_test_carrier_key_000000000000"  # the harbour party's carrier client (fixture carriers)
OTHER_CARRIER_KEY = "csw_test_carrier_two_000000000000"  # the trading party's
TRADER_BRN = "12345678"
OTHER_BRN = "87654321"


def postgres_available(url: str) -> str | None:
    """None when reachable, else the reason."""
    try:
        engine = create_engine(normalise_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _reset_postgres(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class WriteOutsideTheGate(AssertionError):
    """A write statement in a deferred SQLite transaction: made outside the write gate."""


@event.listens_for(Engine, "before_cursor_execute")
def _no_write_outside_the_gate(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """On a SQLite file a transaction is deferred only when begun in ``reading()`` without the
    write gate (app/db/session.py); a write in it is one a request or a job made without taking
    the gate. It would work here (no other writer), and under load wait in SQLite's busy handler
    or fail with "database is locked": fail the test instead."""
    if connection.dialect.name == "sqlite" and connection.info.get(DEFERRED) \
            and connection.engine.url.database not in (None, "", ":memory:") \
            and statement.lstrip()[:7].upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")):
        raise WriteOutsideTheGate(f"a write outside the write gate: {statement[:80]}")


@pytest.fixture(scope="session", autouse=True)
def contract_checked_clients() -> Iterator[None]:
    """Every Flask test client checks each ``/api/v1`` answer against the OpenAPI description
    (tests/contract.py)."""
    from tests.contract import ContractClient

    Flask.test_client_class = ContractClient
    yield
    Flask.test_client_class = None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'csw.db'}"
    else:
        reason = postgres_available(POSTGRES_URL)
        if reason is not None:
            if REQUIRE_SERVICES:
                pytest.fail(f"PostgreSQL required (CSW_REQUIRE_SERVICES=1) but unreachable: {reason}")
            pytest.skip(f"PostgreSQL not reachable: {reason}")
        url = POSTGRES_URL
        _reset_postgres(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    settings = Settings.from_env(
        database_url=database_url,
        instance_dir=tmp_path_factory.mktemp("instance"),
        secret_key="test",
        log_level="WARNING",
        api_rate_limit="100000 per second",
        login_rate_limit="100000 per second",
        # Most tests lodge declarations and then amend, cancel or decide them: here green-lane
        # declarations wait like the others. Release on assessment, the default, is tested with
        # the ``releasing_app`` fixture (tests/integration/test_green_lane_release.py).
        release_green=False,
    )
    app = create_app(settings)
    # No random compliance sample: its draw hashes the document, which holds yesterday's
    # movement date, so on about one day in a hundred a test's declaration would be drawn for
    # the red lane. Tests of the sample set its rate themselves.
    engine = app.extensions["csw"].risk
    app.extensions["csw"].risk = replace(engine, policy=replace(engine.policy, sample_rate=0.0))
    return app


@pytest.fixture()
def clean_app(app: Flask) -> Iterator[Flask]:
    """The app with an empty database holding two parties, each with one API client."""
    sessions = app.extensions["csw"].sessions
    app.extensions["csw"].api_keys.clear()
    app.extensions["csw"].aeo_standings.clear()

    def seed(session: Session) -> None:
        trader = ensure_party(session, TRADER_BRN, "Demo Trading Company Limited")
        other = ensure_party(session, OTHER_BRN, "Harbour Logistics Limited")
        create_client(session, "trader-tms", trader, key=TRADER_KEY)
        create_client(session, "harbour-tms", other, key=OTHER_KEY)
        # the TS sample's vehicle and e-lock
        seed_demo_fleet(session, datetime.now(timezone.utc), app.extensions["csw"].reference.network)

    with sessions() as session, session.begin():
        empty_and_seed(session, app, seed)
    yield app


_SEEDED: dict[int, tuple[object, datetime, list[tuple[Table, list[dict[str, Any]]]]]] = {}


def empty_and_seed(session: Session, owner: object, seed: Callable[[Session], None]) -> None:
    """Empty every table, then put back what ``seed`` makes. ``seed`` runs once per ``owner``
    (the app of one database): its rows are kept and inserted again for the next
    tests, one statement per table instead of the ~110 lookups and inserts of the registrations,
    with the same ids and their times moved to now (so they stay as recent as when seeded)."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    snapshot = _SEEDED.get(id(owner))
    if snapshot is None:
        seeded_at = datetime.now(timezone.utc)
        seed(session)
        session.flush()
        rows = [(table, [dict(row) for row in session.execute(select(table)).mappings()])
                for table in Base.metadata.sorted_tables]
        _SEEDED[id(owner)] = (owner, seeded_at, [(table, found) for table, found in rows if found])
        return
    _, seeded_at, tables = snapshot
    shift = datetime.now(timezone.utc) - seeded_at
    for table, found in tables:
        session.execute(table.insert(), [{key: value + shift if isinstance(value, datetime) else value
                                          for key, value in row.items()} for row in found])


@pytest.fixture()
def client(clean_app: Flask) -> FlaskClient:
    return clean_app.test_client()


@functools.cache
def hashed(password: str) -> str:
    """The Argon2 hash of a test password, made once per run: the hash is slow on purpose (about
    0.2 s of CPU), and fixtures that create the same accounts for every test need not pay it
    each time (a salted hash shared by accounts verifies as any other)."""
    return hash_password(password)


def auth(key: str = TRADER_KEY, accept: str = "application/xml") -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/xml", "Accept": accept}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def expected_outcomes() -> dict[str, dict[str, object]]:
    return json.loads((SAMPLES / "expected.json").read_text())


@pytest.fixture(scope="session")
def response_schema():  # type: ignore[no-untyped-def]
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(PROJECT_ROOT / "schemas/response/v1/response.xsd")))



RABBITMQ_URL = os.environ.get("CSW_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """A reachable RabbitMQ (skipped when down, unless ``CSW_REQUIRE_SERVICES=1``: then failed)."""
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL + "?connection_attempts=1&socket_timeout=3")).close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if REQUIRE_SERVICES:
            pytest.fail(f"RabbitMQ required (CSW_REQUIRE_SERVICES=1) but unreachable: {reason}")
        pytest.skip(f"RabbitMQ not reachable: {reason}")
    return RABBITMQ_URL


REDIS_URL = os.environ.get("CSW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def redis_url() -> str:
    """A reachable Redis for shared rate-limit counters (skipped when down, unless
    ``CSW_REQUIRE_SERVICES=1``: then failed). Database 15, emptied for each test."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis required (CSW_REQUIRE_SERVICES=1) but unreachable: {reason}")
        pytest.skip(f"Redis not reachable: {reason}")
    return REDIS_URL


@contextmanager
def scratch_tables(database_url: str, metadata: MetaData) -> Iterator[Engine]:
    """The migrated test database with ``metadata``'s scratch tables, dropped again afterwards
    (``alembic check`` must not see them)."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        metadata.drop_all(engine)
        engine.dispose()
