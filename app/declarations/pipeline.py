"""The declaration pipeline: intake -> AEO standings -> rules and charges -> risk -> lane,
then storage. The API, the traders' portal, ``csw seed`` and ``csw declarations lodge`` all
lodge through ``lodge``.

The tools each step needs (the schema registry, the rule set with the AEO registry's
standings, the risk engine) are built once at start-up by ``app.bootstrap`` and handed in as
``LodgingTools``, so this capability depends on what they do, not on the capabilities that
do it. Everything before storage runs outside the write gate; only storage, its handlers and
the commit run under it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from app.config import LODGE_ALONE_ABOVE_BYTES
from app.declarations import service
from app.declarations.metrics import GROUP_SIZE
from app.domain.actors import Caller
from app.domain.assessment import Assessed, refuse_if_rejected
from app.domain.declaration import Declaration, ReceivedDeclaration
from app.domain.findings import Finding
from app.domain.problems import Rejection
from app.domain.risk import RiskResult
from app.platform.clock import utcnow
from app.db.bulk import hold_back_inserts, insert_rows
from app.db.session import reading
from app.platform.together import Together
from app.platform.uow import UnitOfWork, drain, inserting_together, reusing_reads

Receive = Callable[[bytes], ReceivedDeclaration]
Assess = Callable[[Session, Declaration, datetime], Assessed]
Score = Callable[[Session, ReceivedDeclaration, Assessed, "str | None"], "RiskResult | None"]
Store = Callable[[Session, ReceivedDeclaration, Assessed, datetime, "RiskResult | None"], service.Outcome]
ScoreMany = Callable[[Session, Sequence[tuple[ReceivedDeclaration, Assessed]]], "list[RiskResult | None]"]


@dataclass(frozen=True)
class LodgingTools:
    """What the pipeline's steps are, bound at start-up.

    ``receive``: parse and schema-check a document; ``assess``: the AEO standings of the
    parties named, business rules, charges and AEO benefits; ``score``: risk score and lane
    (None when no risk engine is configured); ``score_many``: ``score`` for the new
    declarations of a batch at once (their items through the model together); ``together``:
    the process's group commit, assessing, scoring and storing the new declarations of
    concurrent single posts together (None: each on its own); ``alone_above``: a document
    longer than this many bytes is lodged on its own, not in a group (``lodge``)."""

    receive: Receive
    assess: Assess
    score: Score
    score_many: ScoreMany | None = None
    together: Together[Arrival, Lodged] | None = None
    alone_above: int = LODGE_ALONE_ABOVE_BYTES  # bootstrap passes CSW_LODGE_ALONE_ABOVE_BYTES


@dataclass(frozen=True, slots=True)
class Arrival:
    """A single post's new declaration waiting for its group (``Together``): its document as
    received by intake, or its body and how to read it (the leader reads it with the group's);
    when it was received, by whom, in which conversation."""

    received: ReceivedDeclaration | None
    at: datetime
    caller: Caller
    conversation_id: str
    body: bytes
    read: Receive

    def document(self) -> ReceivedDeclaration:
        """The document as intake received it, read now if it was not (on the leader's thread)."""
        return self.received if self.received is not None else self.read(self.body)


@dataclass(frozen=True, slots=True)
class Lodged:
    """What storing one document gave: its outcome, and for a declaration lodged (new or
    amended) its assessment and risk (a cancellation has neither)."""

    outcome: service.Outcome
    assessed: Assessed | None
    risk: RiskResult | None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.assessed.findings if self.assessed is not None else ()


@dataclass(frozen=True, slots=True)
class Request:
    """What one posted document asks for, read once by intake (a single post and every
    document of a batch alike): lodging ``received`` as a new declaration, or, with
    ``reference``, as an amendment of that declaration; or, without ``received``, the
    cancellation of ``reference`` for ``reason``. ``path_root``: what the document's own paths
    start with above ``/Declaration`` (``/MetaData`` for a WCO document), for its refusals."""

    received: ReceivedDeclaration | None
    reference: str | None = None
    reason: str = ""
    path_root: str = ""

    @property
    def new(self) -> bool:
        return self.received is not None and self.reference is None


class NotNew(Exception):
    """A document a group read asks for more than a new declaration (an amendment, a
    cancellation, or a WCO document whose paths its refusals must name): its post lodges it
    on its own, as ``request`` asks."""

    def __init__(self, request: Request) -> None:
        super().__init__("not a new declaration")
        self.request = request


def lodge(uow: UnitOfWork, tools: LodgingTools, body: bytes, store: Store, reference: str | None = None,
          received: ReceivedDeclaration | None = None, read: Receive | None = None) -> Lodged:
    """Run the pipeline on ``body`` and store the result with ``store`` (submit or amend) under
    the write gate; the caller commits the unit of work. A new declaration is lodged with the
    new declarations of the process's concurrent posts (``LodgingTools.together``: its
    group's leader reads their documents, runs their rules and risk and stores them,
    ``_lodge_group``), committed by the group before this returns (the caller's commit then has
    nothing left to do). A reject finding, or any step's refusal, raises a ``Rejection`` with
    nothing stored. ``reference``: the declaration being amended (its transit alerts count
    towards the risk); ``received``: ``body`` already received (the API reads a v2 or WCO
    document first to learn what it asks for); ``read``: how to read ``body``
    (``tools.receive`` by default; the API's raises ``NotNew`` for a document that asks for
    more than a new declaration, which its post then lodges as it asks).

    A document longer than ``tools.alone_above`` bytes (a declaration of some hundred goods
    items) is lodged on its own: in a group, every post would wait for its read, rules and
    risk (a 999-item declaration's some 65 ms), and with one such post among 16 connections of
    5-item ones the small posts' p99 rose from 40-60 ms to 160-210 ms (bench/RESULTS.md,
    sixteenth session)."""
    now = utcnow()
    if isinstance(store, NewDeclaration) and tools.together is not None and len(body) <= tools.alone_above:
        arrival = Arrival(received, now, store.caller, store.conversation_id, body, read or tools.receive)
        return tools.together.store(arrival, partial(_lodge_group, uow, tools))
    if received is None:
        received = (read or tools.receive)(body)
    with reading():  # SQLite: the reads begin a deferred transaction, not the write lock outside the gate
        assessed = tools.assess(uow.session, received.declaration, now)
        refuse_if_rejected(assessed)
        risk = tools.score(uow.session, received, assessed, reference)
    uow.end_reads()
    uow.write_lock()
    # The handlers run here rather than in the commit, so the rows they queue with
    # ``insert_later`` (the lifecycle feed's accepted and released) go in one statement.
    with inserting_together(uow.session, insert_rows):
        outcome = store(uow.session, received, assessed, now, risk)
        drain(uow.session)
    return Lodged(outcome, assessed, risk)


def _lodge_group(uow: UnitOfWork, tools: LodgingTools, group: Sequence[Arrival]) -> list[Lodged | BaseException]:
    """Lodge the new declarations of concurrent posts (``Together``; the leading post's unit of
    work): the read of each document not yet read and its rules, the risk of all at once
    (their items through the model together), then one storage and one commit
    (``_store_group``). Each post is accepted or refused on its own: a document intake refuses
    (or that asks for more than a new declaration, ``NotNew``; or whose read fails otherwise),
    a reject finding, or a document its caller may not lodge, is that post's answer alone.
    Whatever fails otherwise fails every post of the group, as a failed commit does. Outside
    the write gate until the group is stored.

    Why the leader and not each post's own thread: a worker runs one thread at a time, so the
    work is the same, but done for a group in a row it runs on warm caches and the model and
    its GIL hand-offs are paid once a group. Measured in turns against storing-only groups
    (``bench.ab``; bench/RESULTS.md, fourteenth session), the workers' CPU a declaration was
    2-13 % lower on PostgreSQL and 0-21 % on SQLite, and the p99 lower with it; reading the
    documents here too (fifteenth session) took the rate up by a further 5-6 % on SQLite."""
    answers: list[Lodged | BaseException | None] = [None] * len(group)
    checked: list[tuple[int, Arrival, ReceivedDeclaration, Assessed]] = []
    try:
        with reading():  # as in ``lodge``: the reads take no write lock outside the gate
            for index, arrival in enumerate(group):
                try:
                    received = arrival.document()
                except Exception as refused:  # noqa: BLE001 - a document is its own post's answer
                    answers[index] = refused
                    continue
                try:
                    assessed = tools.assess(uow.session, received.declaration, arrival.at)
                    refuse_if_rejected(assessed)
                except Rejection as rejection:
                    answers[index] = rejection
                    continue
                checked.append((index, arrival, received, assessed))
            risks = _new_risks(uow, tools, [(received, assessed) for _, _, received, assessed in checked])
        uow.end_reads()
        planned: list[tuple[int, service.Planned]] = []
        for (index, arrival, received, assessed), risk in zip(checked, risks, strict=True):
            try:
                planned.append((index, service.plan(service.Submission(
                    received, assessed, risk, arrival.at, arrival.caller, arrival.conversation_id))))
            except Rejection as rejection:
                answers[index] = rejection
    except BaseException:
        uow.rollback()
        raise
    if planned:
        stored = _store_group(uow, [item for _, item in planned])
        for (index, _), outcome in zip(planned, stored, strict=True):
            answers[index] = outcome
    else:
        uow.rollback()  # every post refused: nothing to store, the reads' transaction ends
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def _store_group(uow: UnitOfWork, group: Sequence[service.Planned]) -> list[Lodged | BaseException]:
    """Store new declarations of concurrent posts (``Together``) in ``uow`` and commit: the
    leading post's unit of work carries the group, as a batch's declarations are stored (one
    executemany per table), each accepted or refused on its own. Should a handler refuse one,
    the transaction (which holds nothing but the group) is rolled back and each is stored again
    in its own part. Whatever fails otherwise rolls the group back and fails every post of it.
    On PostgreSQL the rows that need no answer are held back and sent together, the last of
    them with the COMMIT (``hold_back_inserts``): the posts waiting for this group wait for
    four round trips, not fourteen."""
    GROUP_SIZE.observe(len(group))
    try:
        uow.write_lock()
        hold_back_inserts(uow.session.connection())
        try:
            with inserting_together(uow.session, insert_rows):
                outcomes = service.submit_many(uow.session, group)
                drain(uow.session)
        except Rejection:
            if len(group) == 1:
                raise
            uow.session.rollback()  # the gate stays held: each is stored again on its own
            results = _each_alone(uow, [planned.submission for planned in group])
        else:
            results = [outcome if isinstance(outcome, Rejection)
                       else Lodged(outcome, planned.submission.assessed, planned.submission.risk)
                       for outcome, planned in zip(outcomes, group, strict=True)]
        uow.commit()
        return list(results)
    except BaseException:
        uow.rollback()
        raise


def lodge_batch(uow: UnitOfWork, tools: LodgingTools, requests: Sequence[Request | Rejection], caller: Caller,
                conversation_id: str) -> list[Lodged | Rejection]:
    """Run the pipeline on each document of a batch, as received (``Request``; a ``Rejection``
    for one intake refused); each is accepted or refused on its own.

    Every step before storage runs for all of them outside the write gate. Then the new
    declarations are stored together in one part of the unit of work (a savepoint: one
    executemany per table, then every declaration's handlers). Should anything in it refuse
    (a handler refusing one declaration, say a transhipment's journey), that part is rolled
    back whole and each declaration is stored again in its own part, so the refusal stays with
    its declaration and the others stand. Amendments and cancellations follow, each in its own
    part, in document order, stored as a single post stores them. The batch costs one commit;
    the caller commits. Results are in the order of ``requests``."""
    checked: list[service.Submission | Request | Rejection] = []
    with reading():  # as in ``lodge``: the preparatory reads take no write lock outside the gate
        for asked in requests:
            if isinstance(asked, Rejection) or asked.received is None:
                checked.append(asked)
                continue
            try:
                now = utcnow()
                assessed = tools.assess(uow.session, asked.received.declaration, now)
                refuse_if_rejected(assessed)
                checked.append(service.Submission(asked.received, assessed, None, now, caller, conversation_id))
            except Rejection as rejection:
                checked.append(rejection)
        prepared = _scored(uow, tools, requests, checked)
    uow.end_reads()
    uow.write_lock()
    with reusing_reads(uow.session):
        stored = iter(_store_new(uow, [item for request, item in zip(requests, prepared, strict=True)
                                       if isinstance(request, Request) and request.new
                                       and not isinstance(item, Request)]))
        answers: list[Lodged | Rejection] = []
        for request, item in zip(requests, prepared, strict=True):
            if isinstance(request, Request) and request.new:
                answers.append(next(stored))
            elif isinstance(item, Rejection):
                answers.append(item)  # refused by intake or the rules
            else:
                assert isinstance(request, Request)
                answers.append(_change(uow, request, item, caller, conversation_id))
        return answers


def _new_risks(uow: UnitOfWork, tools: LodgingTools, documents: Sequence[tuple[ReceivedDeclaration, Assessed]]
               ) -> list[RiskResult | None]:
    """The risk of new declarations (a batch's, or a group of posts'): all at once with
    ``score_many`` (their items through the model together), else one by one."""
    if tools.score_many is not None:
        return tools.score_many(uow.session, documents)
    return [tools.score(uow.session, received, assessed, None) for received, assessed in documents]


def _scored(uow: UnitOfWork, tools: LodgingTools, requests: Sequence[Request | Rejection],
            checked: Sequence[service.Submission | Request | Rejection]
            ) -> list[service.Submission | Request | Rejection]:
    """Risk for every declaration that passed intake and rules: the new ones all at once with
    ``score_many``; an amendment with its declaration's reference (its transit alerts count)."""
    passed = [item for request, item in zip(requests, checked, strict=True)
              if isinstance(item, service.Submission) and isinstance(request, Request) and request.new]
    risks = iter(_new_risks(uow, tools, [(item.received, item.assessed) for item in passed]))
    scored: list[service.Submission | Request | Rejection] = []
    for request, item in zip(requests, checked, strict=True):
        if not isinstance(item, service.Submission) or not isinstance(request, Request):
            scored.append(item)
        elif request.new:
            scored.append(replace(item, risk=next(risks)))
        else:
            scored.append(replace(item, risk=tools.score(uow.session, item.received, item.assessed,
                                                         request.reference)))
    return scored


def _store_new(uow: UnitOfWork, new: Sequence[service.Submission | Rejection]) -> list[Lodged | Rejection]:
    """New declarations (a batch's, or a group of posts'), together; should anything refuse,
    each on its own."""
    try:
        return _store_together(uow, new)
    except Rejection:  # rolled back whole: each declaration on its own says which one refused
        return _each_alone(uow, new)


def _each_alone(uow: UnitOfWork, new: Sequence[service.Submission | Rejection]) -> list[Lodged | Rejection]:
    """New declarations stored together were refused: each again in its own part, as a single
    post stores it, so the refusal stays with its declaration and the others stand."""
    return [item if isinstance(item, Rejection) else _store_alone(uow, item, submission(item.caller,
                                                                                        item.conversation_id))
            for item in new]


def _store_together(uow: UnitOfWork, prepared: Sequence[service.Submission | Rejection]) -> list[Lodged | Rejection]:
    submissions = [item for item in prepared if not isinstance(item, Rejection)]
    with uow.part(), inserting_together(uow.session, insert_rows):
        stored = iter(service.submit_many(uow.session, submissions))
        drain(uow.session)  # the handlers, inside the block: their feed rows go in together
    results: list[Lodged | Rejection] = []
    for item in prepared:
        if isinstance(item, Rejection):
            results.append(item)
            continue
        outcome = next(stored)
        results.append(outcome if isinstance(outcome, Rejection) else Lodged(outcome, item.assessed, item.risk))
    return results


def _store_alone(uow: UnitOfWork, item: service.Submission, store: Store) -> Lodged | Rejection:
    try:
        with uow.part():
            outcome = store(uow.session, item.received, item.assessed, item.at, item.risk)
        return Lodged(outcome, item.assessed, item.risk)
    except Rejection as rejection:
        return rejection


def _change(uow: UnitOfWork, request: Request, item: service.Submission | Request, caller: Caller,
            conversation_id: str) -> Lodged | Rejection:
    """An amendment or a cancellation of a batch, in its own part, as a single post stores it."""
    assert request.reference is not None
    if isinstance(item, service.Submission):
        return _store_alone(uow, item, amendment(request.reference, caller, conversation_id))
    try:
        with uow.part():
            outcome = service.cancel(uow.session, request.reference, request.reason, caller, conversation_id)
        return Lodged(outcome, None, None)
    except Rejection as rejection:
        return rejection


def store_for(request: Request, caller: Caller, conversation_id: str) -> Store:
    """How a single post stores what ``request`` lodges: new, or amending its reference."""
    if request.reference is None:
        return submission(caller, conversation_id)
    return amendment(request.reference, caller, conversation_id)


@dataclass(frozen=True, slots=True)
class NewDeclaration:
    """Stores a new declaration lodged by ``caller`` (a ``Store``). ``lodge`` stores it
    together with the new declarations of the process's concurrent posts when it can."""

    caller: Caller
    conversation_id: str

    def __call__(self, session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
                 risk: RiskResult | None) -> service.Outcome:
        return service.submit(session, received, assessed, self.caller, self.conversation_id, now, risk=risk)


def submission(caller: Caller, conversation_id: str) -> NewDeclaration:
    """Store a new declaration lodged by ``caller``."""
    return NewDeclaration(caller, conversation_id)


def amendment(reference: str, caller: Caller, conversation_id: str) -> Store:
    """Store a full amendment of declaration ``reference``."""
    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> service.Outcome:
        return service.amend(session, reference, received, assessed, caller, conversation_id, now, risk=risk)
    return store
