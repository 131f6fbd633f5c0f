"""A 202 means committed: kill -9 the whole server (master and workers) at random moments
under concurrent submissions, restart it, and check that every acknowledged declaration
is stored intact (document hash, goods items, submission event) and that nothing stored
is half-written. Runs on SQLite and on PostgreSQL (a database of its own, created here).

Bounded for CI (a few rounds of about a second each); ``make soak`` runs more rounds.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import random
import signal
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.factories import declaration_xml
from tests.served import DEMO_KEY, postgres_database, prepared_env, start, stop

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("CSW_CRASH_ROUNDS", "3"))
CLIENTS = 6
ITEMS = 3


@dataclass
class Acknowledged:
    """What the clients were told: declaration id → SHA-256 of the body that got the 202."""

    by_id: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, declaration_id: str, sha256: str) -> None:
        with self.lock:
            self.by_id[declaration_id] = sha256


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'csw.db'}" if request.param == "sqlite" else postgres_database("crash")
    return url, prepared_env(tmp_path, url)


def _submit_until_stopped(base: str, client: int, round_: int, stop: threading.Event,
                          acknowledged: Acknowledged) -> None:
    sequence = 0
    while not stop.is_set():
        sequence += 1
        body = declaration_xml(lrn=f"CRASH-{round_}-{client}-{sequence}", items=ITEMS)
        request = urllib.request.Request(f"{base}/api/v1/declarations", data=body, method="POST", headers={
            "Authorization": f"Bearer {DEMO_KEY}", "Content-Type": "application/xml",
            "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 202:
                    answer = json.loads(response.read())
                    acknowledged.add(answer["declaration_id"], hashlib.sha256(body).hexdigest())
        except (OSError, http.client.HTTPException, ValueError):
            continue  # the server died mid-answer: not acknowledged, so nothing is promised


def _crash_rounds(env: dict[str, str], acknowledged: Acknowledged) -> None:
    rng = random.Random(20261122)
    for round_ in range(ROUNDS):
        process, base = start(env)
        done = threading.Event()
        clients = [threading.Thread(target=_submit_until_stopped, args=(base, c, round_, done, acknowledged))
                   for c in range(CLIENTS)]
        for thread in clients:
            thread.start()
        time.sleep(rng.uniform(0.6, 1.6))
        stop(process, signal.SIGKILL)
        done.set()
        for thread in clients:
            thread.join(timeout=10)


def test_every_acknowledged_declaration_survives_kill_9(crash_database: tuple[str, dict[str, str]]) -> None:
    url, env = crash_database
    acknowledged = Acknowledged()
    _crash_rounds(env, acknowledged)
    assert len(acknowledged.by_id) >= ROUNDS, "the server acknowledged too few declarations to test anything"

    engine = create_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        stored = {row.id: row for row in connection.execute(text(
            "SELECT d.id, d.status, d.goods_item_count, doc.sha256, "
            " (SELECT count(*) FROM goods_items g WHERE g.declaration_id = d.id) AS items, "
            " (SELECT count(*) FROM declaration_events e WHERE e.declaration_id = d.id "
            "  AND e.kind = 'submitted') AS submitted "
            "FROM declarations d LEFT JOIN declaration_documents doc "
            " ON doc.declaration_id = d.id AND doc.version = 1 "
            "WHERE d.lrn LIKE 'CRASH-%'"))}  # not the demo declarations csw seed lodges
    engine.dispose()

    lost = sorted(set(acknowledged.by_id) - set(stored))
    assert not lost, f"{len(lost)} acknowledged declarations are missing after kill -9: {lost[:5]}"
    for declaration_id, sha256 in acknowledged.by_id.items():
        assert stored[declaration_id].sha256 == sha256, f"{declaration_id}: stored document differs"
    for row in stored.values():
        assert row.sha256 is not None, f"{row.id}: stored without its document"
        assert row.items == row.goods_item_count == ITEMS, f"{row.id}: goods items half-written"
        assert row.submitted == 1, f"{row.id}: no submission event"
