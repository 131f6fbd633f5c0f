"""The AEO registry's rules, as pure functions (no database, no web).

A registration is a status and a validity period. The functions here decide whether a
change is allowed and what the registration becomes; ``app.aeo.service`` stores the
result and its history. A refused change raises ``RegistryError`` with a stable code and
an English sentence that says why (and, for the re-admission bar, until when).

Domain (docs/domain.md section 5): validity 3 years; renewal due 6 months before the end
of validity; suspension for non-compliance; revocation bars re-admission for 2 years.

Dates are calendar days in Hong Kong; ``valid_until`` is the last valid day (inclusive).
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from app.domain.aeo import FOREIGN_OPERATOR_ID, HK_COUNTRY

VALIDITY_YEARS = 3
RENEWAL_NOTICE_MONTHS = 6
REVOCATION_BAR_YEARS = 2

HK_OPERATOR_ID = re.compile(r"[0-9]{8}")
"""A HK AEO is identified by its 8-digit Business Registration number."""


class AeoStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class RegistryError(Exception):
    """A refused registry operation: ``code`` is stable, ``message`` is for people.

    Codes: ``TRANSITION_NOT_ALLOWED``, ``VALIDITY_ENDED``, ``READMISSION_BARRED``,
    ``RENEWAL_NOT_DUE``, ``INVALID_OPERATOR_ID`` (here) and ``NOT_FOUND``,
    ``UNKNOWN_ACTION``, ``REASON_REQUIRED``, ``INVALID_FILE`` (``app.aeo.service``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Registration:
    """What the rules read and change of an operator's registration."""

    status: AeoStatus
    valid_from: date
    valid_until: date
    revoked_on: date | None = None


# ------------------------------------------------------------------------------ dates


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the month's last day when needed."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """29 February moves to 28 February in a year that has none."""
    return add_months(day, 12 * years)


def validity_starting(start: date) -> tuple[date, date]:
    """A new validity period: ``VALIDITY_YEARS`` from ``start``, ``valid_until`` inclusive."""
    return start, add_years(start, VALIDITY_YEARS) - timedelta(days=1)


def renewal_due_from(valid_until: date) -> date:
    return add_months(valid_until, -RENEWAL_NOTICE_MONTHS)


def renewal_due(valid_until: date, today: date) -> bool:
    """True from 6 months before the last valid day up to and including that day."""
    return renewal_due_from(valid_until) <= today <= valid_until


def is_valid(status: AeoStatus | str, valid_until: date, today: date) -> bool:
    """Active and not past its validity (a suspended, revoked, expired or withdrawn
    registration is never valid)."""
    return AeoStatus(status) is AeoStatus.ACTIVE and today <= valid_until


def readmission_bar_ends(revoked_on: date) -> date:
    """The first day a revoked operator may be admitted again."""
    return add_years(revoked_on, REVOCATION_BAR_YEARS)


def readmission_barred(status: AeoStatus | str, revoked_on: date | None, today: date) -> str | None:
    """Why a revoked operator cannot be admitted on ``today``, or None when it can."""
    if AeoStatus(status) is not AeoStatus.REVOKED:
        return None
    if revoked_on is None:
        return ("the operator was revoked but the date is not recorded, so the "
                f"{REVOCATION_BAR_YEARS}-year bar on re-admission cannot be checked")
    ends = readmission_bar_ends(revoked_on)
    if today < ends:
        return (f"the operator was revoked on {revoked_on.isoformat()} and is barred from "
                f"re-admission for {REVOCATION_BAR_YEARS} years, until {ends.isoformat()}")
    return None


# ----------------------------------------------------------------------- operator ids


def operator_country(operator_id: str) -> str:
    """``HK`` for an 8-digit BR number, else the id's ISO country prefix.

    Raises ``RegistryError(INVALID_OPERATOR_ID)`` for anything else, and for a foreign-form
    id with the ``HK`` prefix (HK operators are known by their BR number alone)."""
    if HK_OPERATOR_ID.fullmatch(operator_id):
        return HK_COUNTRY
    if FOREIGN_OPERATOR_ID.fullmatch(operator_id):
        country = operator_id[:2]
        if country == HK_COUNTRY:
            raise RegistryError("INVALID_OPERATOR_ID",
                                f"{operator_id!r}: a Hong Kong AEO is identified by its 8-digit BR number")
        return country
    raise RegistryError(
        "INVALID_OPERATOR_ID",
        f"{operator_id[:40]!r} is not an AEO id: expected an 8-digit HK BR number or an ISO country "
        "code followed by the partner programme's id (4 to 33 capital letters or digits)",
    )


# ------------------------------------------------------------------------ transitions


def _refuse(current: Registration, action: str, allowed: tuple[AeoStatus, ...]) -> RegistryError:
    wanted = " or ".join(status.value for status in allowed)
    return RegistryError("TRANSITION_NOT_ALLOWED",
                         f"cannot {action} a registration that is {current.status.value} (only {wanted})")


def suspend(current: Registration, today: date) -> Registration:
    """active -> suspended (non-compliance, an offence under investigation)."""
    if current.status is not AeoStatus.ACTIVE:
        raise _refuse(current, "suspend", (AeoStatus.ACTIVE,))
    return replace(current, status=AeoStatus.SUSPENDED)


def reinstate(current: Registration, today: date) -> Registration:
    """suspended -> active, while the validity has not ended."""
    if current.status is not AeoStatus.SUSPENDED:
        raise _refuse(current, "reinstate", (AeoStatus.SUSPENDED,))
    if today > current.valid_until:
        raise RegistryError(
            "VALIDITY_ENDED",
            f"the registration's validity ended on {current.valid_until.isoformat()}: it cannot be "
            "reinstated; it expires and can then be renewed",
        )
    return replace(current, status=AeoStatus.ACTIVE)


def revoke(current: Registration, today: date) -> Registration:
    """active|suspended -> revoked on ``today`` (bars re-admission for 2 years)."""
    if current.status not in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED):
        raise _refuse(current, "revoke", (AeoStatus.ACTIVE, AeoStatus.SUSPENDED))
    return replace(current, status=AeoStatus.REVOKED, revoked_on=today)


def withdraw(current: Registration, today: date) -> Registration:
    """active|suspended -> withdrawn (the operator leaves the programme)."""
    if current.status not in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED):
        raise _refuse(current, "withdraw", (AeoStatus.ACTIVE, AeoStatus.SUSPENDED))
    return replace(current, status=AeoStatus.WITHDRAWN)


def expire(current: Registration, today: date) -> Registration:
    """active|suspended past ``valid_until`` -> expired."""
    if current.status not in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED):
        raise _refuse(current, "expire", (AeoStatus.ACTIVE, AeoStatus.SUSPENDED))
    if today <= current.valid_until:
        raise RegistryError("TRANSITION_NOT_ALLOWED",
                            f"the registration is valid until {current.valid_until.isoformat()}")
    return replace(current, status=AeoStatus.EXPIRED)


def admit(current: Registration | None, today: date) -> Registration:
    """Admission or renewal: -> active with a new 3-year validity.

    - new (``None``), expired or withdrawn: valid from ``today``;
    - revoked: as new, once the 2-year bar has ended (refused before, naming the date);
    - active: a renewal, only when it is due (6 months before the end); the validity is
      extended by 3 years from the day after it ends (no day lost or doubled) and
      ``valid_from`` stays the start of the unbroken registration;
    - suspended: refused (reinstate it first)."""
    if current is None or current.status in (AeoStatus.EXPIRED, AeoStatus.WITHDRAWN):
        start, until = validity_starting(today)
        return Registration(AeoStatus.ACTIVE, start, until, current.revoked_on if current else None)
    if current.status is AeoStatus.REVOKED:
        barred = readmission_barred(current.status, current.revoked_on, today)
        if barred is not None:
            raise RegistryError("READMISSION_BARRED", barred)
        start, until = validity_starting(today)
        return Registration(AeoStatus.ACTIVE, start, until, current.revoked_on)
    if current.status is AeoStatus.ACTIVE:
        if today > current.valid_until:
            start, until = validity_starting(today)
            return replace(current, valid_from=start, valid_until=until)
        if not renewal_due(current.valid_until, today):
            raise RegistryError(
                "RENEWAL_NOT_DUE",
                f"the registration is valid until {current.valid_until.isoformat()}; renewal is due from "
                f"{renewal_due_from(current.valid_until).isoformat()}",
            )
        _, until = validity_starting(current.valid_until + timedelta(days=1))
        return replace(current, valid_until=until)
    raise RegistryError("TRANSITION_NOT_ALLOWED",
                        "cannot renew a suspended registration: reinstate it first")


renew = admit

TRANSITIONS = {
    "suspend": suspend,
    "reinstate": reinstate,
    "revoke": revoke,
    "withdraw": withdraw,
    "renew": admit,
}
"""The actions an officer may take (``expire`` is the daily job's, not an officer's)."""
