"""Seal event rows into the audit chain, and verify rows and chain against each other.

Sealing runs after the fact (the ``audit-seal`` job every few seconds, or ``csw audit seal``),
so the request path pays nothing and one sealer at a time (the job's advisory lock on
PostgreSQL) assigns gap-free sequence numbers. Rows committed out of id order (PostgreSQL
sequences are not commit-ordered) are still found: each run looks back ``LOOKBACK`` ids
below the highest sealed one for rows without a link. The window between an event's commit
and its sealing is the job's interval; ``verify`` reports rows older than ``grace`` that are
still unsealed, so a row slipped in behind the sealer's back is named too.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, exists, func, select
from sqlalchemy.orm import Session

from app.audit.chain import GENESIS, link_hash, row_digest
from app.db.audit_models import AuditLink
from app.db.models import Base, table_of

LOOKBACK = 1000
BATCH = 5000

#: Every event table of the service: state changes of declarations, AEO operators, journeys,
#: cases, users, rules versions, e-lock scheme registrations and routing subscribers. A table
#: named here that does not exist (yet) is skipped.
AUDITED_TABLES: tuple[str, ...] = (
    "declaration_events",
    "aeo_status_events",
    "rules_version_events",
    "case_events",
    "inspection_outcomes",
    "journey_events",
    "elock_events",
    "trip_events",
    "risk_model_promotions",
    "user_events",
    "transit_registry_events",
    "subscriber_events",
)


@dataclass(frozen=True, slots=True)
class SealReport:
    sealed: int
    head_sequence: int
    head_hash: str


@dataclass(frozen=True, slots=True)
class AuditProblem:
    kind: str  # edited | deleted | unsealed | link-edited | link-missing
    table: str
    row_id: int | None
    sequence: int | None
    message: str


@dataclass(slots=True)
class VerifyReport:
    links: int = 0
    rows: int = 0
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in AUDITED_TABLES if name in Base.metadata.tables]


def _content(row: Mapping[Any, object]) -> dict[str, object]:
    return dict(row)


def head(session: Session) -> tuple[int, str]:
    last = session.execute(
        select(AuditLink.sequence, AuditLink.hash).order_by(AuditLink.sequence.desc()).limit(1)).first()
    return (last.sequence, last.hash) if last else (0, GENESIS)


def seal(session: Session, now: datetime, batch: int = BATCH) -> SealReport:
    """Link every not-yet-sealed event row (up to ``batch`` per table) onto the chain."""
    sequence, previous = head(session)
    links: list[dict[str, object]] = []
    for table in _tables():
        primary = table.c.id
        sealed_max = session.scalar(
            select(func.max(AuditLink.row_id)).where(AuditLink.table_name == table.name)) or 0
        unsealed = (
            select(table)
            .where(primary > sealed_max - LOOKBACK)
            .where(~exists().where(and_(AuditLink.table_name == table.name, AuditLink.row_id == primary)))
            .order_by(primary)
            .limit(batch)
        )
        for row in session.execute(unsealed).mappings():
            sequence += 1
            digest = row_digest(_content(row))
            link = link_hash(previous, sequence, table.name, row["id"], digest)
            links.append({"sequence": sequence, "table_name": table.name, "row_id": row["id"],
                          "row_digest": digest, "previous_hash": previous, "hash": link, "sealed_at": now})
            previous = link
    if links:
        session.connection().execute(table_of(AuditLink).insert(), links)
    return SealReport(len(links), sequence, previous)


def _links_of(session: Session, table: str) -> Iterator[AuditLink]:
    query = select(AuditLink).where(AuditLink.table_name == table).order_by(AuditLink.row_id)
    yield from session.scalars(query.execution_options(yield_per=2000))


def _verify_table(session: Session, table: Table, report: VerifyReport, unsealed_before: datetime,
                  time_column: str | None) -> None:
    """Merge the table's rows (by id) with its links (by row id)."""
    rows = session.execute(select(table).order_by(table.c.id).execution_options(yield_per=2000)).mappings()
    links = _links_of(session, table.name)
    row = next(rows, None)
    link = next(links, None)
    while row is not None or link is not None:
        if link is None or (row is not None and row["id"] < link.row_id):
            assert row is not None
            report.rows += 1
            stamp = row.get(time_column) if time_column else None
            if stamp is None or stamp < unsealed_before:
                report.problems.append(AuditProblem(
                    "unsealed", table.name, row["id"], None,
                    f"{table.name} row {row['id']} is not on the audit chain"))
            row = next(rows, None)
        elif row is None or link.row_id < row["id"]:
            report.problems.append(AuditProblem(
                "deleted", table.name, link.row_id, link.sequence,
                f"{table.name} row {link.row_id} (chain link {link.sequence}) has been deleted"))
            link = next(links, None)
        else:
            report.rows += 1
            content = _content(row)
            if link.row_digest not in (row_digest(content), row_digest(content, naive_utc=True)):
                report.problems.append(AuditProblem(
                    "edited", table.name, row["id"], link.sequence,
                    f"{table.name} row {row['id']} differs from what was sealed at link {link.sequence}"))
            row = next(rows, None)
            link = next(links, None)


def _verify_chain(session: Session, report: VerifyReport) -> None:
    expected_sequence, previous = 1, GENESIS
    query = select(AuditLink).order_by(AuditLink.sequence).execution_options(yield_per=2000)
    for link in session.scalars(query):
        report.links += 1
        if link.sequence != expected_sequence:
            report.problems.append(AuditProblem(
                "link-missing", link.table_name, None, expected_sequence,
                f"chain links {expected_sequence}..{link.sequence - 1} have been deleted"))
        recomputed = link_hash(link.previous_hash, link.sequence, link.table_name, link.row_id, link.row_digest)
        if link.previous_hash != previous or recomputed != link.hash:
            report.problems.append(AuditProblem(
                "link-edited", link.table_name, link.row_id, link.sequence,
                f"chain link {link.sequence} ({link.table_name} row {link.row_id}) has been altered"))
        expected_sequence, previous = link.sequence + 1, link.hash


def verify(session: Session, now: datetime, grace: timedelta = timedelta(minutes=5),
           anchor: tuple[int, str] | None = None) -> VerifyReport:
    """Every problem found, each naming the table and row (or chain link) concerned.

    ``anchor`` is a (sequence, hash) head recorded earlier outside the database (``csw audit
    head``): without it, deleting the newest links together with their rows is undetectable."""
    report = VerifyReport()
    _verify_chain(session, report)
    if anchor is not None:
        sequence, expected = anchor
        found = session.scalar(select(AuditLink.hash).where(AuditLink.sequence == sequence))
        if found != expected:
            report.problems.append(AuditProblem(
                "link-missing" if found is None else "link-edited", "audit_chain", None, sequence,
                f"the anchored chain link {sequence} is {'gone' if found is None else 'not the one anchored'}"))
    for table in _tables():
        time_column = next((c.name for c in table.columns if c.name in ("occurred_at", "recorded_at",
                                                                          "created_at")), None)
        _verify_table(session, table, report, now - grace, time_column)
    return report
