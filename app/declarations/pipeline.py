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
from app.platform.uow import UnitOfWork

Receive = Callable[[bytes], ReceivedDeclaration]
Assess = Callable[[Session, Declaration, datetime], Assessed]
Score = Callable[[Session, ReceivedDeclaration, Assessed, "str | None"], "RiskResult | None"]
Store = Callable[[Session, ReceivedDeclaration, Assessed, datetime, "RiskResult | None"], service.Outcome]


@dataclass(frozen=True)
class LodgingTools:
    """What the pipeline's steps are, bound at start-up.

    ``receive``: parse and schema-check a document; ``assess``: the AEO standings of the
    parties named, business rules, charges and AEO benefits; ``score``: risk score and lane
    (None when no risk engine is configured)."""

    receive: Receive
    assess: Assess
    score: Score


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
    return Lodged(store(uow.session, received, assessed, now, risk), assessed, risk)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A declaration of a batch that passed intake, rules and scoring, waiting to be stored."""

    received: ReceivedDeclaration
    assessed: Assessed
    risk: RiskResult | None
    at: datetime


def lodge_batch(uow: UnitOfWork, tools: LodgingTools, bodies: Sequence[bytes], store: Store
                ) -> list[Lodged | Rejection]:
    """Run the pipeline on each document of a batch; each is accepted or refused on its own.

    Every step before storage runs for all of them outside the write gate; then each is stored
    in its own part of one unit of work (a savepoint, its handlers inside it), so one that is
    refused at storage (a conflicting LRN) leaves the others standing, and the batch costs one
    commit. The caller commits. Results are in the order of ``bodies``."""
    prepared: list[Prepared | Rejection] = []
    for body in bodies:
        try:
            received = tools.receive(body)
            now = utcnow()
            assessed = tools.assess(uow.session, received.declaration, now)
            refuse_if_rejected(assessed)
            prepared.append(Prepared(received, assessed, tools.score(uow.session, received, assessed, None), now))
        except Rejection as rejection:
            prepared.append(rejection)
    uow.end_reads()
    uow.write_lock()
    results: list[Lodged | Rejection] = []
    for item in prepared:
        if isinstance(item, Rejection):
            results.append(item)
            continue
        try:
            with uow.part():
                outcome = store(uow.session, item.received, item.assessed, item.at, item.risk)
            results.append(Lodged(outcome, item.assessed, item.risk))
        except Rejection as rejection:
            results.append(rejection)
    return results


def submission(caller: Caller, conversation_id: str) -> Store:
    """Store a new declaration lodged by ``caller``."""
    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> service.Outcome:
        return service.submit(session, received, assessed, caller, conversation_id, now, risk=risk)
    return store


def amendment(reference: str, caller: Caller, conversation_id: str) -> Store:
    """Store a full amendment of declaration ``reference``."""
    def store(session: Session, received: ReceivedDeclaration, assessed: Assessed, now: datetime,
              risk: RiskResult | None) -> service.Outcome:
        return service.amend(session, reference, received, assessed, caller, conversation_id, now, risk=risk)
    return store
