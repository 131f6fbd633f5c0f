"""Engine and session set-up for the embedded SQLite and for PostgreSQL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a 202 means the row is on disk) and
a write transaction starts with ``BEGIN IMMEDIATE`` so that concurrent gunicorn workers
queue for the write lock instead of failing with "database is locked" on upgrade. Inside
``reading()`` (every web request until its unit of work takes the write gate, and
``Database.reading()``) a plain ``BEGIN`` is used instead: a read needs no write lock, and in
WAL mode readers and the writer do not wait for each other. A transaction begun while the
thread holds the write gate is ``BEGIN IMMEDIATE`` whatever the context: reads in
``reading()``, writes under the gate.
"""
from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Connection, CursorResult, Engine, Result, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.orm import Session


_READING: ContextVar[bool] = ContextVar("csw_reading", default=False)

# On a SQLite connection's info: whether its transaction began deferred (inside ``reading()``).
DEFERRED = "csw_deferred"


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun in this context only read (SQLite: deferred ``BEGIN``)."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


# What Core inserts on the hot path write through: a session, or the connection a caller
# already fetched from it once for the transaction.
Writer = Session | Connection


def connection_of(writer: Writer) -> Connection:
    return writer.connection() if isinstance(writer, Session) else writer


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (psycopg2 is not a dependency)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        gated = str(Path(database)) if database and database != ":memory:" else None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            # Holding the write gate, a transaction writes even inside ``reading()`` (a POST's
            # request reads until its unit of work takes the gate).
            deferred = _READING.get() and not (gated is not None and holds_write_gate(gated))
            connection.info[DEFERRED] = deferred
            connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

        return engine
    # No pre-ping (a round trip per request): a connection lost to a database restart
    # fails one request with 503 (app/__init__.py) and the pool then reconnects.
    return create_engine(url, pool_size=5, max_overflow=5, pool_recycle=1800)


class SqliteWriteGate:
    """Queues writers of one SQLite file on an OS lock (flock) across gunicorn workers.

    SQLite lets one writer in at a time and makes the others sleep and retry with growing
    back-off (up to 100 ms a nap), which wastes the lock's idle time and gives a long tail;
    writers blocked on flock are woken as soon as it is released. The lock file stays open in
    each process (reopened after a fork: an flock belongs to its open file, which a forked
    worker must not share with its parent)."""

    def __init__(self, database: Path) -> None:
        self._database = str(database)
        self._path = database.with_name(database.name + ".write-lock")
        self._threads = threading.Lock()
        self._handle: IO[str] | None = None
        self._pid = 0

    def _lock_file(self) -> IO[str]:
        if self._handle is None or self._pid != os.getpid():
            self._handle = open(self._path, "a")  # noqa: SIM115 (kept open for the process's life)
            self._pid = os.getpid()
        return self._handle

    def _acquire(self, wait: bool) -> bool:
        held = _gates_held()
        if self._database in held:
            # a second writer in this thread would wait for the first, which waits for it
            raise RuntimeError(f"this thread already holds the write gate of {self._database}")
        if not self._threads.acquire(blocking=wait):
            return False
        try:
            fcntl.flock(self._lock_file(), fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        held.add(self._database)
        return True

    def _release(self) -> None:
        _gates_held().discard(self._database)
        try:
            fcntl.flock(self._lock_file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def _holding(self) -> Iterator[None]:
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def __call__(self) -> Iterator[None]:
        """Wait for the gate and hold it for the block."""
        self._acquire(wait=True)
        with self._holding():
            yield

    def at_once(self) -> AbstractContextManager[None] | None:
        """The gate, held (leave the returned context to give it back), if no other writer holds
        it now; None if one does."""
        if not self._acquire(wait=False):
            return None
        held = self._holding()
        held.__enter__()
        return held


_THREAD = threading.local()


def _gates_held() -> set[str]:
    """The SQLite files whose write gate the current thread holds."""
    held: set[str] | None = getattr(_THREAD, "gates", None)
    if held is None:
        held = _THREAD.gates = set()
    return held


def holds_write_gate(database: str) -> bool:
    """Whether the current thread holds the write gate of the SQLite file ``database``."""
    return database in _gates_held()


def write_gate(url: str) -> SqliteWriteGate | type[nullcontext[None]]:
    """The gate a write transaction passes: an flock for file SQLite, nothing for servers."""
    url = normalise_url(url)
    database = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
    if database and database != ":memory:":
        return SqliteWriteGate(Path(database))
    return nullcontext


def rowcount(result: Result[Any]) -> int:
    """Rows matched by an UPDATE or DELETE: ``Session.execute`` is typed as returning a
    ``Result``, but for those statements it is a ``CursorResult``, which has ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount
