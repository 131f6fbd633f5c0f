"""The unit of work: one session, the SQLite write gate, domain events and the single commit.

Services change their own rows and ``emit`` domain events on the session they were given;
they never commit. When the unit of work commits, the queued events are drained first, in
the same transaction: each event is handed to every handler registered for its type (which
may emit more events, drained in turn), and only then is the transaction committed. So a
handler that fails rolls the whole change back, and a committed change always carries
everything its handlers wrote (cases, journeys, manifests, outbox rows). Callbacks that must
only run once the change is durable (per-worker cache clears) are queued with
``after_commit``.

The drain is attached to the session itself (SQLAlchemy's ``before_commit``), so there is one
drain however the commit is reached; a rollback drops whatever was queued.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeAlias

from sqlalchemy import Connection, Table, event
from sqlalchemy.orm import Session, sessionmaker

from app.db.session import DEFERRED, SqliteWriteGate, reading

log = logging.getLogger("csw.uow")

Handler: TypeAlias = Callable[[Session, Any], None]
HandlerTable: TypeAlias = Mapping[type, Sequence[Handler]]

_QUEUE = "csw_events"
_HANDLERS = "csw_handlers"
_AFTER_COMMIT = "csw_after_commit"
_MAX_ROUNDS = 10_000  # a handler that keeps emitting is a bug, not a workload


class UnhandledEvents(RuntimeError):
    """Events were emitted on a session that has no handler table: they would be lost."""


def emit(session: Session, *events: object) -> None:
    """Queue domain events on the session's transaction; handled before it commits."""
    session.info.setdefault(_QUEUE, []).extend(events)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


_MEMO = "csw_memo"


def memo(session: Session) -> dict[object, Any] | None:
    """Answers to reads that the current bulk work may reuse (None: none is going on)."""
    found: dict[object, Any] | None = session.info.get(_MEMO)
    return found


@contextmanager
def reusing_reads(session: Session) -> Iterator[None]:
    """While lodging (a declaration, or a batch), handlers may keep the answers of reads of
    what lodging does not change (subscribers, callbacks, a stored version's LRN): read once
    per unit of work, not once per notice. Whatever changes those rows runs in its own unit of
    work, never inside this block."""
    session.info[_MEMO] = {}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


_LATER = "csw_insert_later"


def insert_later(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """Queue ``row`` for ``table`` to be inserted with the rest of a batch's rows of that table
    (one executemany), when a batch is being stored (``inserting_together``); False when none
    is: the caller inserts it now. Only for rows nothing reads back before the batch ends, and
    whose id nobody needs."""
    queued: dict[Table, list[dict[str, Any]]] | None = session.info.get(_LATER)
    if queued is None:
        return False
    queued.setdefault(table, []).append(row)
    return True


InsertRows: TypeAlias = Callable[[Connection, Table, Sequence[dict[str, Any]]], None]


def _executemany(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    connection.execute(table.insert(), list(rows))


@contextmanager
def inserting_together(session: Session, insert: InsertRows = _executemany) -> Iterator[None]:
    """Rows queued with ``insert_later`` inside the block are inserted at its end, in the
    order they were queued, one ``insert`` per table (executemany unless the caller brings a
    faster way, such as COPY; still inside the caller's transaction or savepoint; a failure in
    the block drops them)."""
    queued: dict[Table, list[dict[str, Any]]] = {}
    session.info[_LATER] = queued
    try:
        yield
        session.info.pop(_LATER, None)
        connection = session.connection()
        for table, rows in queued.items():
            insert(connection, table, rows)
    finally:
        session.info.pop(_LATER, None)


_PROCESS_TABLE: dict[type, list[Handler]] = {}
_installed = [False]


def install(handlers: HandlerTable) -> None:
    """Make ``handlers`` the process's table (start-up: the app factory, the CLI, the job
    runner). Sessions made with ``make_session_factory`` carry their own table instead."""
    _PROCESS_TABLE.clear()
    _PROCESS_TABLE.update({kind: list(found) for kind, found in handlers.items()})
    _installed[0] = True


def drain(session: Session) -> int:
    """Hand every queued event to its handlers, in emission order; returns how many ran."""
    queue: list[object] = session.info.get(_QUEUE) or []
    if not queue:
        return 0
    handlers: HandlerTable | None = session.info.get(_HANDLERS) or (_PROCESS_TABLE if _installed[0] else None)
    if handlers is None:
        raise UnhandledEvents(f"{len(queue)} domain events emitted on a session without handlers: "
                              f"{', '.join(type(e).__name__ for e in queue[:5])}")
    handled = 0
    while queue:
        handled += 1
        if handled > _MAX_ROUNDS:
            raise RuntimeError("domain events keep emitting each other; giving up")
        current = queue.pop(0)
        for handler in handlers.get(type(current), ()):
            handler(session, current)
    return handled


@event.listens_for(Session, "before_commit")
def _drain_before_commit(session: Session) -> None:
    drain(session)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, None) or []
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is committed; a failed cache clear must not turn it into an error
            log.exception("after-commit callback failed")


_BEGAN = "csw_began"  # "deferred" or "immediate": how the session's SQLite transaction began
_FLUSHED = "csw_flushed"  # the session's transaction has written (flushed) something


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction: Any, connection: Any) -> None:
    if DEFERRED in connection.info:
        session.info[_BEGAN] = "deferred" if connection.info[DEFERRED] else "immediate"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: Any) -> None:
    session.info[_FLUSHED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_begin(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_BEGAN, None)
        session.info.pop(_FLUSHED, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.nested:  # a savepoint: the outer transaction and its events go on
        return
    session.info.pop(_QUEUE, None)
    session.info.pop(_AFTER_COMMIT, None)


def make_session_factory(bind: Any, handlers: HandlerTable | None = None) -> sessionmaker[Session]:
    """Sessions with their own handler table, or the process's when ``handlers`` is None
    (``expire_on_commit`` off: views read after commit)."""
    return sessionmaker(bind=bind, expire_on_commit=False, info={_HANDLERS: handlers} if handlers else {})


WriteGate: TypeAlias = Callable[[], AbstractContextManager[None]]


class UnitOfWork:
    """One business transaction. ``write_lock()`` takes the write gate (SQLite: one writer
    across workers, queued on an OS lock) and holds it until ``commit()`` or ``rollback()``,
    so storage, handlers and the commit all happen under it while the work before it
    (parsing, rules, scoring) does not. ``commit()`` drains the events and commits once.
    Leaving the block without a commit rolls everything back."""

    def __init__(self, session: Session, write_gate: WriteGate = nullcontext, *, owns_session: bool = False) -> None:
        self.session = session
        self._write_gate = write_gate
        self._held: AbstractContextManager[None] | None = None
        self._owns_session = owns_session

    @classmethod
    def open(cls, sessions: sessionmaker[Session], write_gate: WriteGate = nullcontext) -> UnitOfWork:
        return cls(sessions(), write_gate, owns_session=True)

    def end_reads(self) -> None:
        """End the transaction the preparatory reads used, so the writes begin afresh under the
        gate (on SQLite a transaction begun outside ``reading()`` holds the write lock). It only
        read, so it is committed: what it loaded stays loaded."""
        if self.session.in_transaction():
            self.session.commit()

    def write_lock(self) -> UnitOfWork:
        """Take the write gate (once) until the transaction ends.

        On SQLite, reads made before it outside ``reading()`` began ``BEGIN IMMEDIATE``: the
        session holds SQLite's write lock, and waiting for the gate with it would deadlock with
        the gate's holder, which waits for that lock (in SQLite's busy handler, until its 30 s
        timeout fails it). So the gate is taken at once if it is free; if it is not, the
        transaction, which has only read, is rolled back (everything it loaded is expired, and read
        again under the gate) before waiting. A deferred transaction (begun in ``reading()``)
        is always ended so: its snapshot may be older than the last commit, and could not write."""
        if self._held is None:
            self._held = self._take_gate()
        return self

    def _take_gate(self) -> AbstractContextManager[None]:
        gate, began = self._write_gate, self.session.info.get(_BEGAN)
        if isinstance(gate, SqliteWriteGate) and began is not None:
            held = gate.at_once() if began == "immediate" else None
            if held is not None:
                return held
            if self._wrote():
                log.warning("a unit of work wrote before taking the write gate; waiting for it with the write lock")
            else:
                self.session.rollback()
        held = self._write_gate()
        held.__enter__()
        return held

    def _wrote(self) -> bool:
        session = self.session
        return bool(session.new or session.dirty or session.deleted or session.info.get(_QUEUE)
                    or session.info.get(_FLUSHED))

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(None, None, None)

    @contextmanager
    def part(self) -> Iterator[None]:
        """A part of the unit of work that stands or falls on its own (a SAVEPOINT): its events
        are handled inside it, so a part that fails leaves nothing behind (rows, events,
        handlers' rows) and the parts before and after it stand. Bulk lodging is one unit of
        work with one part per declaration, and one commit."""
        queue: list[object] = self.session.info.setdefault(_QUEUE, [])
        mark = len(queue)
        try:
            with self.session.begin_nested():
                yield
                drain(self.session)
        except BaseException:
            del queue[mark:]
            raise

    def commit(self) -> None:
        """Commit what the unit of work holds. With nothing begun, pending or queued (a single
        post whose group its leader already committed) there is nothing to commit, and no
        empty transaction is begun to commit it."""
        try:
            if self._holds_work():
                self.session.commit()
        finally:
            self._release()

    def _holds_work(self) -> bool:
        return bool(self.session.in_transaction() or self._wrote() or self.session.info.get(_AFTER_COMMIT))

    def rollback(self) -> None:
        try:
            self.session.rollback()
        finally:
            self._release()

    def close(self) -> None:
        """Roll back whatever was not committed and give the gate back."""
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self._release()
            if self._owns_session:
                self.session.close()

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True)
class Database:
    """A database's sessions and its write gate: what work outside a web request (scheduled
    jobs, the outbox dispatcher, CLI commands) reads and writes through, so that on SQLite its
    writers queue at the same gate as the web's and its reads take no write lock."""

    sessions: sessionmaker[Session]
    write_gate: WriteGate = nullcontext

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work on a session of its own, behind the write gate."""
        return UnitOfWork.open(self.sessions, self.write_gate)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A change: the write gate first, then the transaction, committed (its events handled)
        when the block ends, rolled back if it raises; the gate is held until then."""
        with self.unit_of_work() as uow:
            uow.write_lock()
            yield uow.session
            uow.commit()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Reads only (SQLite: a deferred ``BEGIN``, no write lock, no gate); nothing is committed."""
        with reading(), self.sessions() as session:
            yield session
