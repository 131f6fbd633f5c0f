"""AEO registry use cases on an open session: import, change status, look up, standings,
expiry.

Like ``app.declarations.service``, nothing here commits: the caller (request, CLI
command, scheduled job) owns the transaction, so a registration and the
``AeoStatusEvent`` recording its change land together or not at all. The rules
themselves (which change is allowed, dates) are ``app.aeo.registry``'s.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.aeo import registry
from app.reference.mra import MraPartners
from app.aeo.registry import AeoStatus, Registration, RegistryError
from app.db import models
from app.platform.clock import utcnow

COLUMNS = ("operator_id", "name", "tier", "status", "valid_from", "valid_until")
"""Required CSV columns; ``revoked_on`` (YYYY-MM-DD) is optional, for revoked operators."""
OPTIONAL_COLUMNS = ("revoked_on",)
LINE_KEY = "_line"
"""A row may carry its source line number under this key (``read_csv_rows`` sets it);
otherwise row ``i`` (0-based) is taken to be on line ``i + 2``, after the header."""
TIERS = (1, 2)
ACTIONS = tuple(registry.TRANSITIONS)
REASON_LENGTH = (3, 500)
_ID_CHUNK = 500


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    operator_id: str | None
    reason: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AeoStanding:
    """What a declaration check needs to know of one operator on one day."""

    operator_id: str
    name: str
    tier: int
    status: str
    valid_until: date
    recognised: bool
    reason: str
    """Why it is not recognised (English); empty when it is."""
    renewal_due: bool


@dataclass
class ExpiryReport:
    expired: list[str] = field(default_factory=list)
    renewals_due: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------ helpers


def _registration(row: models.AeoOperator) -> Registration:
    return Registration(AeoStatus(row.status), row.valid_from, row.valid_until, row.revoked_on)


def _event(operator: models.AeoOperator, status_from: str | None, reason: str, actor: str,
           now: datetime) -> models.AeoStatusEvent:
    return models.AeoStatusEvent(
        operator_pk=operator.id, status_from=status_from, status_to=operator.status,
        reason=reason, actor=actor[:120], occurred_at=now,
    )


def require_reason(reason: object) -> str:
    low, high = REASON_LENGTH
    if not isinstance(reason, str) or not low <= len(reason.strip()) <= high:
        raise RegistryError("REASON_REQUIRED", f"a status change needs a reason of {low} to {high} characters")
    return reason.strip()


def _describe(registration: Registration, tier: int) -> str:
    text = (f"{registration.status.value}, tier {tier}, valid {registration.valid_from.isoformat()} to "
            f"{registration.valid_until.isoformat()}")
    if registration.status is AeoStatus.REVOKED and registration.revoked_on is not None:
        text += f", revoked on {registration.revoked_on.isoformat()}"
    return text


# ------------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    operator_id: str
    country: str
    name: str
    tier: int
    registration: Registration
    revoked_on_given: bool


class _RowError(Exception):
    pass


def _date(row: Mapping[str, str | None], key: str) -> date:
    raw = (row.get(key) or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _RowError(f"{key} must be a date YYYY-MM-DD, got {raw[:20]!r}") from None


def _parse(row: Mapping[str, str | None], line: int, today: date, mra: MraPartners) -> _Row:
    if None in row:  # csv.DictReader puts surplus fields under the key None
        raise _RowError("the row has more fields than the header")
    missing = [column for column in COLUMNS if row.get(column) is None]
    if missing:
        raise _RowError(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    operator_id = (row["operator_id"] or "").strip()
    try:
        country = registry.operator_country(operator_id)
    except RegistryError as exc:
        raise _RowError(exc.message) from None
    if country != registry.HK_COUNTRY:
        partner = mra.get(country)
        if partner is None:
            raise _RowError(f"{country} is not an MRA partner: only HK AEOs and partners' AEOs under a "
                            "Mutual Recognition Arrangement can be registered")
        if not partner.id_matches(operator_id):
            raise _RowError(f"{operator_id} is not in the id format of {partner.programme} "
                            f"({partner.name_en}), e.g. {partner.id_format.pattern}")
    name = " ".join((row["name"] or "").split())
    if not name or len(name) > 140:
        raise _RowError("name must be 1 to 140 characters")
    tier_text = (row["tier"] or "").strip()
    if tier_text not in {str(t) for t in TIERS}:
        raise _RowError(f"tier must be 1 or 2, got {tier_text[:10]!r}")
    status_text = (row["status"] or "").strip().lower()
    try:
        status = AeoStatus(status_text)
    except ValueError:
        raise _RowError(f"status must be one of {', '.join(s.value for s in AeoStatus)}, "
                        f"got {status_text[:20]!r}") from None
    valid_from, valid_until = _date(row, "valid_from"), _date(row, "valid_until")
    if valid_until < valid_from:
        raise _RowError("valid_until is before valid_from")
    revoked_on = _date(row, "revoked_on") if (row.get("revoked_on") or "").strip() else None
    if revoked_on is not None and revoked_on > today:
        raise _RowError("revoked_on is in the future")
    if status in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED) and valid_until < today:
        raise _RowError(f"status {status.value} but the validity ended on {valid_until.isoformat()} "
                        "(import it as expired)")
    if status is AeoStatus.EXPIRED and valid_until >= today:
        raise _RowError(f"status expired but valid until {valid_until.isoformat()}")
    return _Row(line, operator_id, country, name, int(tier_text),
                Registration(status, valid_from, valid_until, revoked_on), revoked_on is not None)


def read_csv_rows(lines: Iterable[str]) -> list[dict[str, str | None]]:
    """The rows of an operators CSV file, each with its line number under ``LINE_KEY``.

    Raises ``RegistryError(INVALID_FILE)`` when the header lacks a required column."""
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise RegistryError("INVALID_FILE", f"line 1: the header lacks {', '.join(missing)} "
                                            f"(expected {','.join(COLUMNS)}[,revoked_on])")
    reader.fieldnames = header
    rows: list[dict[str, str | None]] = []
    for row in reader:
        values: dict[str, str | None] = dict(row)
        values[LINE_KEY] = str(reader.line_num)
        rows.append(values)
    return rows


def _existing(session: Session, ids: list[str]) -> dict[str, models.AeoOperator]:
    found: dict[str, models.AeoOperator] = {}
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start:start + _ID_CHUNK]
        for operator in session.scalars(
            select(models.AeoOperator).where(models.AeoOperator.operator_id.in_(chunk)).with_for_update()
        ):
            found[operator.operator_id] = operator
    return found


def import_operators(session: Session, rows: Iterable[Mapping[str, str | None]], actor: str, today: date,
                     mra: MraPartners, source: str = "import") -> ImportReport:
    """Create or update operators from rows of ``COLUMNS`` (a CSV file's ``DictReader``).

    Valid rows are applied and each rejected row is reported with its line and reason
    (the caller decides whether to commit). Importing the same rows again changes nothing
    and writes no event. Every created or changed operator gets one ``AeoStatusEvent``
    naming ``source`` and the line."""
    report = ImportReport()
    parsed: list[_Row] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = int(row.get(LINE_KEY) or index + 2)
        raw_id = (row.get("operator_id") or "").strip() or None
        try:
            item = _parse(row, line, today, mra)
        except _RowError as exc:
            report.rejected.append(RejectedRow(line, raw_id, str(exc)))
            continue
        if item.operator_id in seen:
            report.rejected.append(RejectedRow(line, item.operator_id,
                                               f"{item.operator_id} is already on line {seen[item.operator_id]}"))
            continue
        seen[item.operator_id] = line
        parsed.append(item)

    existing = _existing(session, [item.operator_id for item in parsed])
    now = utcnow()
    created: list[tuple[models.AeoOperator, _Row]] = []
    for item in parsed:
        operator = existing.get(item.operator_id)
        wanted = item.registration
        where = f"imported from {source} line {item.line}"
        if operator is None:
            if wanted.status is AeoStatus.REVOKED and wanted.revoked_on is None:
                wanted = Registration(wanted.status, wanted.valid_from, wanted.valid_until, today)
            elif wanted.status is not AeoStatus.REVOKED and wanted.revoked_on is not None:
                barred = registry.readmission_barred(AeoStatus.REVOKED, wanted.revoked_on, today)
                if barred is not None:
                    report.rejected.append(RejectedRow(item.line, item.operator_id,
                                                       f"cannot be imported as {wanted.status.value}: {barred}"))
                    continue
            operator = models.AeoOperator(
                operator_id=item.operator_id, country=item.country, name=item.name, tier=item.tier,
                status=wanted.status.value, valid_from=wanted.valid_from, valid_until=wanted.valid_until,
                revoked_on=wanted.revoked_on, updated_at=now,
            )
            session.add(operator)
            created.append((operator, item))
            report.created.append(item.operator_id)
            continue

        current = _registration(operator)
        if current.status is AeoStatus.REVOKED and wanted.status is not AeoStatus.REVOKED:
            barred = registry.readmission_barred(current.status, current.revoked_on, today)
            if barred is not None:
                report.rejected.append(RejectedRow(item.line, item.operator_id,
                                                   f"cannot be imported as {wanted.status.value}: {barred}"))
                continue
        if not item.revoked_on_given:
            revoked_on = current.revoked_on
            if wanted.status is AeoStatus.REVOKED and current.status is not AeoStatus.REVOKED:
                revoked_on = today
            wanted = Registration(wanted.status, wanted.valid_from, wanted.valid_until, revoked_on)
        changes = [
            f"{label} {old} -> {new}"
            for label, old, new in (
                ("name", operator.name, item.name),
                ("tier", operator.tier, item.tier),
                ("status", current.status.value, wanted.status.value),
                ("valid_from", current.valid_from.isoformat(), wanted.valid_from.isoformat()),
                ("valid_until", current.valid_until.isoformat(), wanted.valid_until.isoformat()),
                ("revoked_on", current.revoked_on.isoformat() if current.revoked_on else "-",
                 wanted.revoked_on.isoformat() if wanted.revoked_on else "-"),
            )
            if old != new
        ]
        if not changes:
            report.unchanged.append(item.operator_id)
            continue
        status_from = operator.status
        operator.name, operator.tier, operator.status = item.name, item.tier, wanted.status.value
        operator.valid_from, operator.valid_until = wanted.valid_from, wanted.valid_until
        operator.revoked_on, operator.updated_at = wanted.revoked_on, now
        session.add(_event(operator, status_from, f"{where}: {'; '.join(changes)}", actor, now))
        report.updated.append(item.operator_id)

    if created:
        session.flush()
        for operator, item in created:
            described = _describe(_registration(operator), item.tier)
            reason = f"imported from {source} line {item.line}: registered ({described})"
            session.add(_event(operator, None, reason, actor, now))
    session.flush()
    return report


# -------------------------------------------------------------------------- status change


def change_status(session: Session, operator_id: str, action: str, reason: object, actor: str,
                  today: date) -> models.AeoOperator:
    """An officer's action: ``suspend``, ``reinstate``, ``revoke``, ``withdraw`` or ``renew``.

    Raises ``RegistryError``: ``UNKNOWN_ACTION``, ``REASON_REQUIRED``, ``NOT_FOUND`` or the
    registry's refusal (``TRANSITION_NOT_ALLOWED``, ``VALIDITY_ENDED``,
    ``READMISSION_BARRED``, ``RENEWAL_NOT_DUE``)."""
    transition = registry.TRANSITIONS.get(action)
    if transition is None:
        raise RegistryError("UNKNOWN_ACTION", f"action must be one of {', '.join(ACTIONS)}")
    reason = require_reason(reason)
    operator = session.scalar(
        select(models.AeoOperator).where(models.AeoOperator.operator_id == operator_id).with_for_update()
    )
    if operator is None:
        raise RegistryError("NOT_FOUND", f"no AEO operator {operator_id[:40]} in the registry")
    before = _registration(operator)
    after = transition(before, today)
    now = utcnow()
    status_from = operator.status
    operator.status = after.status.value
    operator.valid_from, operator.valid_until = after.valid_from, after.valid_until
    operator.revoked_on = after.revoked_on
    operator.updated_at = now
    note = reason
    if (after.valid_from, after.valid_until) != (before.valid_from, before.valid_until):
        note += f" [valid {after.valid_from.isoformat()} to {after.valid_until.isoformat()}]"
    session.add(_event(operator, status_from, f"{action}: {note}", actor, now))
    session.flush()
    return operator


# ------------------------------------------------------------------------------- look-up


def lookup(session: Session, operator_id: str) -> models.AeoOperator | None:
    """The operator with its history (oldest first), or None."""
    return session.scalar(
        select(models.AeoOperator)
        .where(models.AeoOperator.operator_id == operator_id)
        .options(selectinload(models.AeoOperator.history))
    )


def standing_of(operator: models.AeoOperator, on: date, mra: MraPartners) -> AeoStanding:
    """Whether ``operator`` is recognised as an AEO on ``on``, and if not, why."""
    status = AeoStatus(operator.status)
    reason: str | None
    if status is AeoStatus.SUSPENDED:
        reason = "the AEO registration is suspended"
    elif status is AeoStatus.REVOKED:
        reason = "the AEO registration was revoked" + (
            f" on {operator.revoked_on.isoformat()}" if operator.revoked_on else "")
    elif status is AeoStatus.WITHDRAWN:
        reason = "the AEO registration was withdrawn"
    elif status is AeoStatus.EXPIRED or on > operator.valid_until:
        reason = f"the AEO registration expired: it was valid until {operator.valid_until.isoformat()}"
    elif on < operator.valid_from:
        reason = f"the AEO registration is valid only from {operator.valid_from.isoformat()}"
    elif operator.country != registry.HK_COUNTRY:
        reason = mra.refusal(operator.country, operator.operator_id, on)
    else:
        reason = None
    return AeoStanding(
        operator_id=operator.operator_id, name=operator.name, tier=operator.tier, status=operator.status,
        valid_until=operator.valid_until, recognised=reason is None, reason=reason or "",
        renewal_due=status is AeoStatus.ACTIVE and registry.renewal_due(operator.valid_until, on),
    )


def standings_for(session: Session, identifiers: Iterable[str], on: date,
                  mra: MraPartners) -> dict[str, AeoStanding]:
    """The standing of every id that is in the registry (ids not in it are left out), in
    one query."""
    ids = sorted({identifier.strip() for identifier in identifiers if identifier and identifier.strip()})
    if not ids:
        return {}
    operators = session.scalars(select(models.AeoOperator).where(models.AeoOperator.operator_id.in_(ids)))
    return {operator.operator_id: standing_of(operator, on, mra) for operator in operators}


# -------------------------------------------------------------------------------- expiry


def expire_registrations(session: Session, today: date, actor: str) -> ExpiryReport:
    """Mark every active or suspended registration past its validity as expired (with an
    event each) and list the active ones whose renewal is due. Running it twice on one day
    changes nothing the second time."""
    report = ExpiryReport()
    now = utcnow()
    overdue = session.scalars(
        select(models.AeoOperator)
        .where(models.AeoOperator.status.in_([AeoStatus.ACTIVE.value, AeoStatus.SUSPENDED.value]),
               models.AeoOperator.valid_until < today)
        .order_by(models.AeoOperator.operator_id)
        .with_for_update()
    ).all()
    for operator in overdue:
        status_from = operator.status
        operator.status = registry.expire(_registration(operator), today).status.value
        operator.updated_at = now
        session.add(_event(operator, status_from,
                           f"expire: the validity ended on {operator.valid_until.isoformat()}", actor, now))
        report.expired.append(operator.operator_id)
    # renewal_due_from() clamps month ends, so a few days' margin, then the exact test
    horizon = registry.add_months(today, registry.RENEWAL_NOTICE_MONTHS) + timedelta(days=3)
    due = session.execute(
        select(models.AeoOperator.operator_id, models.AeoOperator.valid_until)
        .where(models.AeoOperator.status == AeoStatus.ACTIVE.value,
               models.AeoOperator.valid_until >= today, models.AeoOperator.valid_until <= horizon)
        .order_by(models.AeoOperator.valid_until, models.AeoOperator.operator_id)
    ).all()
    report.renewals_due = [operator_id for operator_id, valid_until in due
                           if registry.renewal_due(valid_until, today)]
    session.flush()
    return report
