"""On the embedded SQLite, reading never waits for a writer.

Why: a trader polling a declaration's status, or an officer opening the queue, must not queue
behind a lodgement that holds the write lock (WAL lets readers and the writer run together);
writes still start with BEGIN IMMEDIATE and queue for the lock.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.config import Settings
from app.db import migrate
from app.db.session import write_gate
from app.users.clients import create_client, ensure_party
from tests.conftest import TRADER_BRN, TRADER_KEY, auth, sample

WAIT_S = 2.0


@pytest.fixture()
def sqlite_app(tmp_path: Path) -> Flask:
    url = f"sqlite:///{tmp_path / 'csw.db'}"
    migrate.upgrade(url)
    app = create_app(Settings.from_env(database_url=url, instance_dir=tmp_path, secret_key="test",
                                       log_level="WARNING", release_green=False))
    with app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "trader-tms", ensure_party(session, TRADER_BRN, "Demo Trading Company Limited"),
                      key=TRADER_KEY)
    return app


def _while_a_writer_holds_the_lock(database: Path, request: object) -> tuple[bool, object]:
    """Run ``request()`` in a thread while another connection holds SQLite's write lock;
    (finished before the lock was released, its result)."""
    holder = sqlite3.connect(database, isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")
    outcome: dict[str, object] = {}
    worker = threading.Thread(target=lambda: outcome.update(result=request()))  # type: ignore[operator]
    try:
        worker.start()
        worker.join(WAIT_S)
        finished = not worker.is_alive()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        worker.join()
    return finished, outcome.get("result")


def test_a_status_look_up_answers_while_a_lodgement_holds_the_write_lock(sqlite_app: Flask, tmp_path: Path) -> None:
    client = sqlite_app.test_client()
    lodged = client.post("/api/v1/declarations", data=sample("valid/import-5-items.xml"),
                         headers=auth(accept="application/json"))
    assert lodged.status_code == 202
    reference = lodged.get_json()["declaration_id"]

    finished, answer = _while_a_writer_holds_the_lock(
        tmp_path / "csw.db",
        lambda: client.get(f"/api/v1/declarations/{reference}", headers=auth(accept="application/json")))

    assert finished, "the look-up waited for the writer"
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert answer.get_json()["status"] == "accepted"  # type: ignore[attr-defined]


def test_a_lodgement_still_queues_for_the_write_lock(sqlite_app: Flask, tmp_path: Path) -> None:
    client = sqlite_app.test_client()

    finished, answer = _while_a_writer_holds_the_lock(
        tmp_path / "csw.db",
        lambda: client.post("/api/v1/declarations", data=sample("valid/import-5-items.xml"),
                            headers=auth(accept="application/json")))

    assert not finished, "a write ran while another writer held the lock"
    assert answer.status_code == 202  # type: ignore[attr-defined]


def test_a_post_reads_its_api_key_without_waiting_for_a_writer(sqlite_app: Flask, tmp_path: Path) -> None:
    """Looking up a key (its first use: not yet cached) only reads: a POST refused before it
    writes anything answers while another writer holds the lock. Were the look-up to begin
    ``BEGIN IMMEDIATE`` it would take the write lock outside the write gate, and queue behind
    (or starve among) the writers that hold the gate."""
    client = sqlite_app.test_client()

    finished, answer = _while_a_writer_holds_the_lock(
        tmp_path / "csw.db",
        lambda: client.post("/api/v1/declarations", data=b"<Declaration", headers=auth(accept="application/json")))

    assert finished, "the key's look-up waited for the writer"
    assert answer.status_code == 400  # type: ignore[attr-defined]


def test_a_write_that_read_before_the_gate_does_not_stall_the_gates_holder(sqlite_app: Flask, tmp_path: Path) -> None:
    """The stall two schemathesis clients met (requests unanswered after 5 s, every process idle):
    an acknowledgement (or a callback registration) reads its API client before it takes the gate;
    on SQLite that read
    began BEGIN IMMEDIATE, so the request held SQLite's write lock while it queued for the gate,
    and the writer holding the gate (another worker's declaration) waited for that lock in
    SQLite's busy handler: each waited for the other until the busy timeout (30 s) failed one."""
    client = sqlite_app.test_client()
    database = tmp_path / "csw.db"
    gate = write_gate(f"sqlite:///{database}")()
    gate.__enter__()  # another worker's writer holds the gate ...
    answer: dict[str, object] = {}
    request = threading.Thread(target=lambda: answer.update(response=client.post(
        "/api/v1/lifecycle-notifications/acknowledgements", json={"through": 0},
        headers={**auth(accept="application/json"), "Content-Type": "application/json"})))
    writer = sqlite3.connect(database, isolation_level=None, timeout=WAIT_S)
    try:
        request.start()
        _until_the_write_lock_is_taken(database)
        writer.execute("BEGIN IMMEDIATE")  # ... and now writes (raises "database is locked" after WAIT_S)
        writer.execute("ROLLBACK")
    finally:
        writer.close()
        gate.__exit__(None, None, None)
        request.join()
    assert answer["response"].status_code == 200  # type: ignore[attr-defined]


def _until_the_write_lock_is_taken(database: Path, seconds: float = WAIT_S) -> None:
    """Wait (at most ``seconds``) until another connection holds SQLite's write lock."""
    probe = sqlite3.connect(database, isolation_level=None, timeout=0)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:
                return
            time.sleep(0.005)
    finally:
        probe.close()
