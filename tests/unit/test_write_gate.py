"""The SQLite write gate: one writer at a time across processes and threads, taken at once only
when free, and never twice by one thread (that writer would wait for itself for ever)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.db.session import SqliteWriteGate, holds_write_gate


def _held_elsewhere(gate: SqliteWriteGate) -> tuple[threading.Event, threading.Thread]:
    """Another worker's writer holding ``gate`` until the returned event is set."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with gate():
            taken.set()
            done.wait(5)
    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5)
    return done, holder


def test_the_gate_is_taken_at_once_only_when_no_other_writer_holds_it(tmp_path: Path) -> None:
    database = tmp_path / "csw.db"
    other, mine = SqliteWriteGate(database), SqliteWriteGate(database)  # as two workers' gates

    done, holder = _held_elsewhere(other)
    assert mine.at_once() is None
    done.set()
    holder.join()
    held = mine.at_once()
    assert held is not None and holds_write_gate(str(database))
    held.__exit__(None, None, None)
    assert not holds_write_gate(str(database))
    done, holder = _held_elsewhere(other)  # given back: the other writer gets it
    done.set()
    holder.join()


def test_one_thread_cannot_take_the_gate_twice(tmp_path: Path) -> None:
    database = tmp_path / "csw.db"
    with SqliteWriteGate(database)(), pytest.raises(RuntimeError, match="already holds"):
        SqliteWriteGate(database).at_once()
