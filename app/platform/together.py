"""Group commit: the writes of concurrent requests in one process stored and committed together.

A worker serves several requests at once on its threads. Each single declaration used to pay
its own statements and its own commit (one fsync on SQLite, one WAL flush on PostgreSQL) under
the write gate, one after another. Here the threads that reach storage while another is storing
wait in a queue; when the storing thread (the leader) has committed, it answers its group and
hands the lead to the first in the queue, who stores everything that queued meanwhile as one
group: one executemany per table and one commit for all of them. Nobody waits for a group to
fill: a request arriving while nothing is being stored stores at once (a group of one), so a
quiet server answers as fast as before, and a busy one shares its statements and commits.

The leader does its group's work, not only its storage (``app.declarations.pipeline``: the
read of each new declaration's document, its rules and risk, then one storage and one commit).
Anything no group can share (the SQLite write gate, which another worker may hold) is waited for
inside that work, once the group is taken: a leader holding the gate while it ran the group's
rules would keep the other worker's group from storage for as long.

Nothing is answered before the commit that holds it: the leader sets every result of its group
only after its store function returned, and that function commits. Should it fail, every
request of the group gets the failure (nothing of the group was committed).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Stores a group (the leader's own item first) and commits it; one result per item, in order:
#: the item's answer, or the exception that is its answer.
StoreGroup = Callable[[Sequence[T]], Sequence["R | BaseException"]]


class _Ticket(Generic[T, R]):
    __slots__ = ("item", "store", "ready", "leads", "result", "failure")

    def __init__(self, item: T, store: StoreGroup[T, R]) -> None:
        self.item = item
        self.store = store
        self.ready = threading.Event()
        self.leads = False
        self.result: R | None = None
        self.failure: BaseException | None = None

    def answer(self, outcome: R | BaseException) -> None:
        if isinstance(outcome, BaseException):
            self.failure = outcome
        else:
            self.result = outcome
        self.ready.set()

    def lead(self) -> None:
        self.leads = True
        self.ready.set()


class Together(Generic[T, R]):
    """One queue of a process's storing threads (see the module's docstring). ``largest``
    bounds a group, so one commit never carries an unbounded amount of work."""

    def __init__(self, largest: int = 64) -> None:
        self.largest = largest
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T, R]] = []
        self._leading = False

    @property
    def waiting(self) -> int:
        """How many stores are queued and not yet taken into a group."""
        with self._lock:
            return len(self._queue)

    def store(self, item: T, store: StoreGroup[T, R]) -> R:
        """Store ``item`` with the others waiting, and return its answer (or raise its
        exception). ``store`` is this thread's way to store a group, used if it leads."""
        ticket: _Ticket[T, R] = _Ticket(item, store)
        with self._lock:
            self._queue.append(ticket)
            leads = not self._leading
            self._leading = True
        if not leads:
            ticket.ready.wait()
            if not ticket.leads:
                return self._outcome(ticket)
        self._lead(ticket)
        return self._outcome(ticket)

    def _lead(self, ticket: _Ticket[T, R]) -> None:
        try:
            with self._lock:
                group, self._queue = self._queue[:self.largest], self._queue[self.largest:]
            assert group[0] is ticket  # the leader is always first: it queued first or was handed the lead
            try:
                outcomes = ticket.store([member.item for member in group])
                if len(outcomes) != len(group):
                    raise RuntimeError(f"a group of {len(group)} got {len(outcomes)} answers")
            except BaseException as failure:  # noqa: BLE001 (every member must hear how its group ended)
                outcomes = [failure] * len(group)
            for member, outcome in zip(group, outcomes):
                member.answer(outcome)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].lead()
                else:
                    self._leading = False

    @staticmethod
    def _outcome(ticket: _Ticket[T, R]) -> R:
        if ticket.failure is not None:
            raise ticket.failure
        return ticket.result  # type: ignore[return-value]  # set, as failure was not
