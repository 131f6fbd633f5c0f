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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.declarations import service
from app.domain.actors import Caller
from app.domain.assessment import Assessed, refuse_if_rejected
from app.domain.declaration import Declaration, ReceivedDeclaration
from app.domain.problems import Rejection
from app.domain.risk import RiskResult
from app.platform.clock import utcnow
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
    declarations of a batch at once (their items through the model together)."""

    receive: Receive
    assess: Assess
    score: Score
    score_many: ScoreMany | None = None


@dataclass(frozen=True, slots=True)
class Lodged:
    outcome: service.Outcome
    assessed: Assessed
    risk: RiskResult | None


def lodge(uow: UnitOfWork, tools: LodgingTools, body: bytes, store: Store, reference: str | None = None,
          received: ReceivedDeclaration | None = None) -> Lodged:
    """Run the pipeline on ``body`` and store the result with ``store`` (submit or amend) under
    the write gate; the caller commits the unit of work. A reject finding, or any step's
    refusal, raises a ``Rejection`` with nothing stored. ``reference``: the declaration being
    amended (its transit alerts count towards the risk); ``received``: ``body`` already received
    (the API reads a WCO document first to learn whether it amends)."""
    if received is None:
        received = tools.receive(body)
    now = utcnow()
    assessed = tools.assess(uow.session, received.declaration, now)
    refuse_if_rejected(assessed)
    risk = tools.score(uow.session, received, assessed, reference)
    uow.end_reads()
    uow.write_lock()
    # The handlers run here rather than in the commit, so the rows they queue with
    # ``insert_later`` (the lifecycle feed's accepted and released) go in one statement.
    with inserting_together(uow.session):
        outcome = store(uow.session, received, assessed, now, risk)
        drain(uow.session)
    return Lodged(outcome, assessed, risk)


StoreMany = Callable[[Session, Sequence[service.Submission]], "list[service.Outcome | Rejection]"]


def lodge_batch(uow: UnitOfWork, tools: LodgingTools, bodies: Sequence[bytes], store: Store,
                store_many: StoreMany | None = None) -> list[Lodged | Rejection]:
    """Run the pipeline on each document of a batch; each is accepted or refused on its own.

    Every step before storage runs for all of them outside the write gate. Then, with
    ``store_many``, all are stored together in one part of the unit of work (a savepoint: one
    executemany per table, then every declaration's handlers). Should anything in it refuse
    (a handler refusing one declaration, say a transhipment's journey), that part is rolled
    back whole and each declaration is stored again in its own part with ``store``, so the
    refusal stays with its declaration and the others stand. The batch costs one commit. The
    caller commits. Results are in the order of ``bodies``."""
    checked: list[tuple[ReceivedDeclaration, Assessed, datetime] | Rejection] = []
    for body in bodies:
        try:
            received = tools.receive(body)
            now = utcnow()
            assessed = tools.assess(uow.session, received.declaration, now)
            refuse_if_rejected(assessed)
            checked.append((received, assessed, now))
        except Rejection as rejection:
            checked.append(rejection)
    prepared = _scored(uow, tools, checked)
    uow.end_reads()
    uow.write_lock()
    with reusing_reads(uow.session):
        if store_many is not None:
            try:
                return _store_together(uow, prepared, store_many)
            except Rejection:
                pass  # rolled back whole: each declaration on its own below says which one refused
        return [_store_alone(uow, item, store) for item in prepared]


def _scored(uow: UnitOfWork, tools: LodgingTools, checked: Sequence[tuple[ReceivedDeclaration, Assessed, datetime]
                                                                  | Rejection]) -> list[service.Submission | Rejection]:
    """Risk for every declaration that passed intake and rules: all at once with ``score_many``."""
    passed = [item for item in checked if not isinstance(item, Rejection)]
    if tools.score_many is not None:
        risks = iter(tools.score_many(uow.session, [(received, assessed) for received, assessed, _ in passed]))
    else:
        risks = iter([tools.score(uow.session, received, assessed, None) for received, assessed, _ in passed])
    return [item if isinstance(item, Rejection) else service.Submission(item[0], item[1], next(risks), item[2])
            for item in checked]


def _store_together(uow: UnitOfWork, prepared: Sequence[service.Submission | Rejection], store_many: StoreMany
                    ) -> list[Lodged | Rejection]:
    submissions = [item for item in prepared if not isinstance(item, Rejection)]
    with uow.part(), inserting_together(uow.session):
        stored = iter(store_many(uow.session, submissions))
        drain(uow.session)  # the handlers, inside the block: their feed rows go in together
    results: list[Lodged | Rejection] = []
    for item in prepared:
        if isinstance(item, Rejection):
            results.append(item)
            continue
        outcome = next(stored)
        results.append(outcome if isinstance(outcome, Rejection) else Lodged(outcome, item.assessed, item.risk))
    return results


def _store_alone(uow: UnitOfWork, item: service.Submission | Rejection, store: Store) -> Lodged | Rejection:
    if isinstance(item, Rejection):
        return item
    try:
        with uow.part():
            outcome = store(uow.session, item.received, item.assessed, item.at, item.risk)
        return Lodged(outcome, item.assessed, item.risk)
    except Rejection as rejection:
        return rejection


def submission(caller: Caller, conversation_id: str) -> Store:
    """Store a new declaration lodged by ``caller``."""
    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> service.Outcome:
        return service.submit(session, received, assessed, caller, conversation_id, now, risk=risk)
    return store


def bulk_submission(caller: Caller, conversation_id: str) -> StoreMany:
    """Store the new declarations of a batch lodged by ``caller``, together."""
    def store_many(session: Session, submissions: Sequence[service.Submission]
                   ) -> list[service.Outcome | Rejection]:
        return service.submit_many(session, submissions, caller, conversation_id)
    return store_many


def amendment(reference: str, caller: Caller, conversation_id: str) -> Store:
    """Store a full amendment of declaration ``reference``."""
    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> service.Outcome:
        return service.amend(session, reference, received, assessed, caller, conversation_id, now, risk=risk)
    return store
