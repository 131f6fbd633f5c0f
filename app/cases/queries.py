"""Read-only views for officers: finding any declaration (whatever its status, with or
without a case) and listing closed cases. Entry points read through these; nothing here
writes.

The search matches one free-text term against every identifier an officer may hold -- the
declaration reference, the trader's LRN or UCR, a party's identifier or name, a container
number, an e-lock id or a case number -- case-insensitively, and narrows by status, case
state, lane, type, control point and the day it was received (Hong Kong time).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from app.db import models
from app.db.case_models import Case, SavedSearch
from app.domain.cases import CaseState
from app.domain.time import HONG_KONG

CASE_STATES = tuple(state.value for state in CaseState)
NO_CASE = "none"


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """What an officer searches for; every part is optional and they combine with AND."""

    text: str = ""
    status: str = ""
    case_state: str = ""
    lane: str = ""
    type_code: str = ""
    control_point: str = ""
    received_from: date | None = None
    received_to: date | None = None

    @property
    def empty(self) -> bool:
        return not any((self.text.strip(), self.status, self.case_state, self.lane, self.type_code,
                        self.control_point, self.received_from, self.received_to))


@dataclass(frozen=True, slots=True)
class Found:
    """One declaration found, with its latest case (None when it never needed an officer)."""

    declaration: models.Declaration
    case: Case | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    rows: list[Found]
    page: int
    per_page: int
    has_next: bool
    criteria: SearchCriteria = field(default_factory=SearchCriteria)
    cargo: list[Case] = field(default_factory=list)  # cargo cases the text names (first page only)


def _like(term: str) -> str:
    """A LIKE pattern matching ``term`` literally (its own % and _ escaped)."""
    return term.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")


def _text_condition(term: str) -> ColumnElement[bool]:
    term = term.strip()
    upper = term.upper()
    prefix = _like(upper) + "%"
    contains = "%" + _like(upper) + "%"
    declaration = models.Declaration
    party_named = select(models.DeclarationParty.declaration_id).where(or_(
        func.upper(models.DeclarationParty.identifier) == upper,
        func.upper(models.DeclarationParty.name).like(contains, escape="\\")))
    declarant_named = select(models.Party.id).where(or_(
        func.upper(models.Party.identifier) == upper, func.upper(models.Party.name).like(contains, escape="\\")))
    equipment = select(models.TransportEquipment.declaration_id).where(or_(
        func.upper(models.TransportEquipment.container_id).like(prefix, escape="\\"),
        func.upper(models.TransportEquipment.elock_id) == upper))
    conditions: list[ColumnElement[bool]] = [
        declaration.id == upper,
        func.upper(declaration.lrn).like(prefix, escape="\\"),
        func.upper(declaration.ucr).like(prefix, escape="\\"),
        declaration.id.in_(party_named),
        declaration.declarant_party_id.in_(declarant_named),
        declaration.id.in_(equipment),
    ]
    number = upper.removeprefix("#")
    if number.isascii() and number.isdigit() and len(number) <= 10:
        conditions.append(declaration.id.in_(select(Case.declaration_id).where(Case.id == int(number))))
    return or_(*conditions)


def _hong_kong_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=HONG_KONG)


def _search_query(criteria: SearchCriteria) -> Select[models.Declaration]:
    declaration = models.Declaration
    query = select(declaration)
    if criteria.text.strip():
        query = query.where(_text_condition(criteria.text))
    for column, value in ((declaration.status, criteria.status), (declaration.lane, criteria.lane),
                          (declaration.type_code, criteria.type_code)):
        if value:
            query = query.where(column == value)
    if criteria.control_point:
        query = query.where(func.upper(declaration.control_point) == criteria.control_point.upper())
    if criteria.received_from:
        query = query.where(declaration.received_at >= _hong_kong_midnight(criteria.received_from))
    if criteria.received_to:
        query = query.where(declaration.received_at < _hong_kong_midnight(criteria.received_to + timedelta(days=1)))
    if criteria.case_state == NO_CASE:
        query = query.where(~exists().where(Case.declaration_id == declaration.id))
    elif criteria.case_state in CASE_STATES:
        query = query.where(exists().where(and_(Case.declaration_id == declaration.id,
                                                Case.state == criteria.case_state)))
    return query.order_by(declaration.received_at.desc(), declaration.id.desc())


def search(session: Session, criteria: SearchCriteria, page: int = 1, per_page: int = 50) -> SearchPage:
    """One page of declarations matching ``criteria``, newest first, each with its latest
    case. Fetches one extra row to know whether a next page exists."""
    page = max(1, page)
    if criteria.empty:
        return SearchPage([], page, per_page, False, criteria)
    rows = list(session.scalars(_search_query(criteria).offset((page - 1) * per_page).limit(per_page + 1)))
    cargo = cargo_cases_named(session, criteria.text, per_page) if page == 1 else []
    shown = rows[:per_page]
    latest: dict[str, Case] = {}
    if shown:
        for case in session.scalars(select(Case).where(Case.declaration_id.in_([r.id for r in shown]))
                                    .order_by(Case.id)):
            if case.declaration_id is not None:
                latest[case.declaration_id] = case
    return SearchPage([Found(row, latest.get(row.id)) for row in shown], page, per_page,
                      len(rows) > per_page, criteria, cargo)


def cargo_cases_named(session: Session, text: str, limit: int) -> list[Case]:
    """Cases of cargo (selected before it moved, or a line left open) whose cargo the text
    names in part: a manifest, a bill of lading or air waybill, a road cargo reference. They
    have no declaration, so the declaration search cannot find them. Newest first."""
    term = text.strip().upper()
    if len(term) < 3:
        return []
    contains = "%" + _like(term) + "%"
    named = or_(func.upper(Case.cargo_ref).like(contains, escape="\\"),
                and_(Case.source == "write-off",
                     func.upper(cast(Case.reasons, String)).like(contains, escape="\\")))
    return list(session.scalars(select(Case).where(Case.declaration_id.is_(None), named)
                                .order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)))


@dataclass(frozen=True, slots=True)
class ClosedPage:
    cases: list[Case]
    page: int
    per_page: int
    has_next: bool


def closed_cases(session: Session, page: int = 1, per_page: int = 50, *, lane: str | None = None,
                 control_point: str | None = None, type_code: str | None = None, alert_kind: str | None = None,
                 assigned_to_id: int | None = None) -> ClosedPage:
    """Closed cases, most recently closed first (the queue shows only active ones)."""
    page = max(1, page)
    query = select(Case).where(Case.active.is_(False))
    for column, value in ((Case.lane, lane), (Case.control_point, control_point), (Case.type_code, type_code),
                          (Case.alert_kind, alert_kind), (Case.assigned_to_id, assigned_to_id)):
        if value is not None and value != "":
            query = query.where(column == value)
    rows = list(session.scalars(query.order_by(Case.closed_at.desc(), Case.id.desc())
                                .offset((page - 1) * per_page).limit(per_page + 1)))
    return ClosedPage(rows[:per_page], page, per_page, len(rows) > per_page)


def active_cargo_cases(session: Session, references: list[str]) -> dict[str, int]:
    """The active case of each selected consignment named (``Case.cargo_ref``), for the pages
    that show the cargo."""
    if not references:
        return {}
    return {ref: case_id for ref, case_id in session.execute(
        select(Case.cargo_ref, Case.id).where(Case.cargo_ref.in_(references), Case.active.is_(True))) if ref}


def alert_kinds_seen(session: Session) -> list[str]:
    """Alert kinds cases have carried (the pick-list adds them to the known kinds)."""
    return sorted(k for k in session.scalars(select(Case.alert_kind).where(Case.alert_kind.is_not(None))
                                             .distinct()) if k)


def saved_searches(session: Session, user_id: int) -> list[SavedSearch]:
    """The officer's saved filters, by name."""
    return list(session.scalars(select(SavedSearch).where(SavedSearch.user_id == user_id)
                                .order_by(SavedSearch.name, SavedSearch.id)))


__all__ = ["CASE_STATES", "NO_CASE", "ClosedPage", "Found", "SearchCriteria", "SearchPage", "active_cargo_cases",
           "cargo_cases_named",
           "alert_kinds_seen", "closed_cases", "saved_searches", "search"]
