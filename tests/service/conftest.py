"""The service-layer tier: use cases and event handlers against a real database (SQLite and
PostgreSQL, as the integration tier), wired by ``app.bootstrap`` exactly as the app and the
CLI wire them, with no Flask in sight."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.bootstrap import Runtime, build
from app.config import Settings
from app.db.models import Base
from app.declarations import pipeline
from app.declarations.service import Outcome
from app.domain.actors import Caller
from app.platform.clock import utcnow
from app.platform.uow import UnitOfWork
from app.transit.service import seed_demo_fleet
from app.users.clients import create_client, ensure_party
from tests.conftest import OTHER_BRN, OTHER_KEY, TRADER_BRN, TRADER_KEY


@pytest.fixture(scope="session")
def runtime(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path_factory.mktemp("service"),
                                 secret_key="test", log_level="WARNING", release_green=False)
    built = build(settings, install_handlers=False)
    yield built
    built.engine.dispose()


@dataclass(frozen=True)
class World:
    """An empty database with two parties (a trader and a carrier) and their callers."""

    runtime: Runtime
    trader: Caller
    carrier: Caller

    def uow(self) -> UnitOfWork:
        return self.runtime.unit_of_work()

    def session(self) -> Session:
        return self.runtime.sessions()

    def lodge(self, body: bytes, caller: Caller | None = None) -> Outcome:
        """Lodge ``body`` through the pipeline and commit, as the API does."""
        with self.uow() as uow:
            lodged = pipeline.lodge(uow, self.runtime.lodging, body,
                                    pipeline.submission(caller or self.trader, "test"))
            uow.commit()
        return lodged.outcome


@pytest.fixture()
def world(runtime: Runtime) -> Iterator[World]:
    runtime.caches.api_keys.clear()
    runtime.caches.aeo_standings.clear()
    runtime.caches.risk_history.clear()
    with runtime.sessions() as session, session.begin():
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        trader = ensure_party(session, TRADER_BRN, "Demo Trading Company Limited")
        carrier = ensure_party(session, OTHER_BRN, "Harbour Logistics Limited")
        trader_client, _ = create_client(session, "trader-tms", trader, key=TRADER_KEY)
        carrier_client, _ = create_client(session, "harbour-tms", carrier, key=OTHER_KEY)
        seed_demo_fleet(session, utcnow(), runtime.reference.network)
        callers = (Caller(f"client:{trader_client.id}:trader-tms", trader.id, trader.identifier),
                   Caller(f"client:{carrier_client.id}:harbour-tms", carrier.id, carrier.identifier))
    engine = runtime.risk
    if engine is not None:  # no random sample: it hashes the document, which holds yesterday's date (tests/conftest.py)
        runtime.risk = replace(engine, policy=replace(engine.policy, sample_rate=0.0))
    yield World(runtime, *callers)
    runtime.risk = engine


def sample(name: str) -> bytes:
    return (Path(__file__).resolve().parents[2] / "samples" / name).read_bytes()


def every_score(world: World, lane: str, *, release_green: bool = False) -> None:
    """Send every declaration to ``lane`` (no random sampling): the lane decides what follows;
    ``release_green``: the lane policy releases green-lane declarations on assessment."""
    from app.domain.risk import LaneThresholds

    engine = world.runtime.risk
    assert engine is not None
    thresholds = {"green": LaneThresholds(yellow=101, red=101), "yellow": LaneThresholds(yellow=0, red=101),
                  "red": LaneThresholds(yellow=0, red=0)}[lane]
    world.runtime.risk = replace(engine, policy=replace(engine.policy, thresholds=thresholds, sample_rate=0.0,
                                                                  release_green=release_green))
