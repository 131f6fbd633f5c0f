"""The AEO registry's rules: transitions, validity, renewal, the re-admission bar, ids."""
from __future__ import annotations

from datetime import date

import pytest

from app.aeo import registry
from app.aeo.registry import AeoStatus, Registration, RegistryError

TODAY = date(2026, 11, 22)


def reg(status: AeoStatus, valid_from: date = date(2025, 1, 1), valid_until: date = date(2027, 12, 31),
        revoked_on: date | None = None) -> Registration:
    return Registration(status, valid_from, valid_until, revoked_on)


def refused(code: str, function, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistryError) as caught:
        function(*args)
    assert caught.value.code == code
    return caught.value.message


# --------------------------------------------------------------------------- constants


def test_the_programme_constants_are_the_domain_s() -> None:
    assert registry.VALIDITY_YEARS == 3
    assert registry.RENEWAL_NOTICE_MONTHS == 6
    assert registry.REVOCATION_BAR_YEARS == 2
    assert {s.value for s in AeoStatus} == {"active", "suspended", "revoked", "expired", "withdrawn"}


# ------------------------------------------------------------------------- transitions

ALL = tuple(AeoStatus)


@pytest.mark.parametrize("status", ALL)
def test_suspend_only_an_active_registration(status: AeoStatus) -> None:
    if status is AeoStatus.ACTIVE:
        assert registry.suspend(reg(status), TODAY).status is AeoStatus.SUSPENDED
    else:
        assert "only active" in refused("TRANSITION_NOT_ALLOWED", registry.suspend, reg(status), TODAY)


@pytest.mark.parametrize("status", ALL)
def test_reinstate_only_a_suspended_registration(status: AeoStatus) -> None:
    if status is AeoStatus.SUSPENDED:
        after = registry.reinstate(reg(status), TODAY)
        assert after.status is AeoStatus.ACTIVE and after.valid_until == date(2027, 12, 31)
    else:
        refused("TRANSITION_NOT_ALLOWED", registry.reinstate, reg(status), TODAY)


def test_reinstate_is_refused_past_the_validity_but_allowed_on_its_last_day() -> None:
    suspended = reg(AeoStatus.SUSPENDED, valid_until=TODAY)
    assert registry.reinstate(suspended, TODAY).status is AeoStatus.ACTIVE
    message = refused("VALIDITY_ENDED", registry.reinstate, suspended, date(2026, 11, 23))
    assert "2026-11-22" in message


@pytest.mark.parametrize("status", ALL)
def test_revoke_an_active_or_suspended_registration_and_record_the_day(status: AeoStatus) -> None:
    if status in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED):
        after = registry.revoke(reg(status), TODAY)
        assert after.status is AeoStatus.REVOKED and after.revoked_on == TODAY
    else:
        refused("TRANSITION_NOT_ALLOWED", registry.revoke, reg(status), TODAY)


@pytest.mark.parametrize("status", ALL)
def test_withdraw_an_active_or_suspended_registration(status: AeoStatus) -> None:
    if status in (AeoStatus.ACTIVE, AeoStatus.SUSPENDED):
        assert registry.withdraw(reg(status), TODAY).status is AeoStatus.WITHDRAWN
    else:
        refused("TRANSITION_NOT_ALLOWED", registry.withdraw, reg(status), TODAY)


@pytest.mark.parametrize("status", [AeoStatus.ACTIVE, AeoStatus.SUSPENDED])
def test_expire_only_after_the_last_valid_day(status: AeoStatus) -> None:
    current = reg(status, valid_until=TODAY)
    refused("TRANSITION_NOT_ALLOWED", registry.expire, current, TODAY)
    assert registry.expire(current, date(2026, 11, 23)).status is AeoStatus.EXPIRED


@pytest.mark.parametrize("status", [AeoStatus.REVOKED, AeoStatus.EXPIRED, AeoStatus.WITHDRAWN])
def test_expire_leaves_ended_registrations_alone(status: AeoStatus) -> None:
    refused("TRANSITION_NOT_ALLOWED", registry.expire, reg(status, valid_until=date(2020, 1, 1)), TODAY)


# ------------------------------------------------------------------ admission, renewal


def test_a_new_operator_is_admitted_for_three_years_inclusive() -> None:
    admitted = registry.admit(None, TODAY)
    assert admitted == Registration(AeoStatus.ACTIVE, TODAY, date(2029, 11, 21), None)


def test_admission_on_29_february_ends_on_27_february() -> None:
    admitted = registry.admit(None, date(2028, 2, 29))
    assert admitted.valid_until == date(2031, 2, 27)


@pytest.mark.parametrize("status", [AeoStatus.EXPIRED, AeoStatus.WITHDRAWN])
def test_an_expired_or_withdrawn_operator_is_re_admitted_from_today(status: AeoStatus) -> None:
    after = registry.renew(reg(status, valid_until=date(2025, 1, 1)), TODAY)
    assert (after.status, after.valid_from, after.valid_until) == (AeoStatus.ACTIVE, TODAY, date(2029, 11, 21))


def test_renewing_a_suspended_registration_is_refused() -> None:
    assert "reinstate" in refused("TRANSITION_NOT_ALLOWED", registry.renew, reg(AeoStatus.SUSPENDED), TODAY)


def test_an_active_registration_renews_only_when_due_and_keeps_every_day() -> None:
    active = reg(AeoStatus.ACTIVE, valid_from=date(2024, 6, 1), valid_until=date(2027, 5, 31))
    message = refused("RENEWAL_NOT_DUE", registry.renew, active, date(2026, 11, 29))
    assert "2026-11-30" in message
    renewed = registry.renew(active, date(2026, 11, 30))
    assert renewed.status is AeoStatus.ACTIVE
    assert renewed.valid_from == date(2024, 6, 1)  # the unbroken registration's start
    assert renewed.valid_until == date(2030, 5, 31)  # 3 years from 2027-06-01, inclusive


def test_an_active_registration_past_its_validity_renews_from_today() -> None:
    active = reg(AeoStatus.ACTIVE, valid_until=date(2026, 11, 1))
    after = registry.renew(active, TODAY)
    assert (after.valid_from, after.valid_until) == (TODAY, date(2029, 11, 21))


# ------------------------------------------------------------- the re-admission bar


REVOKED_ON = date(2024, 11, 22)


def test_a_revoked_operator_is_barred_until_two_years_after_revocation() -> None:
    revoked = reg(AeoStatus.REVOKED, revoked_on=REVOKED_ON)
    message = refused("READMISSION_BARRED", registry.admit, revoked, date(2026, 11, 21))
    assert "until 2026-11-22" in message and "2024-11-22" in message
    assert registry.readmission_bar_ends(REVOKED_ON) == date(2026, 11, 22)


def test_the_bar_ends_on_the_second_anniversary() -> None:
    revoked = reg(AeoStatus.REVOKED, revoked_on=REVOKED_ON)
    admitted = registry.admit(revoked, date(2026, 11, 22))
    assert admitted.status is AeoStatus.ACTIVE and admitted.valid_from == date(2026, 11, 22)


def test_the_bar_of_a_revocation_on_29_february_ends_on_28_february() -> None:
    assert registry.readmission_bar_ends(date(2028, 2, 29)) == date(2030, 2, 28)
    assert registry.readmission_barred(AeoStatus.REVOKED, date(2028, 2, 29), date(2030, 2, 27))
    assert registry.readmission_barred(AeoStatus.REVOKED, date(2028, 2, 29), date(2030, 2, 28)) is None


def test_a_revocation_without_a_date_is_treated_as_barred() -> None:
    refused("READMISSION_BARRED", registry.admit, reg(AeoStatus.REVOKED, revoked_on=None), TODAY)


def test_only_revoked_registrations_are_barred() -> None:
    assert registry.readmission_barred(AeoStatus.EXPIRED, date(2026, 1, 1), TODAY) is None


# ----------------------------------------------------------------- renewal due, valid


@pytest.mark.parametrize(("valid_until", "today", "due"), [
    (date(2027, 5, 22), date(2026, 11, 21), False),  # the day before the 6 months start
    (date(2027, 5, 22), date(2026, 11, 22), True),   # exactly 6 months before
    (date(2027, 5, 22), date(2027, 5, 22), True),    # the last valid day
    (date(2027, 5, 22), date(2027, 5, 23), False),   # past it: expired, not due
    (date(2027, 8, 31), date(2027, 2, 27), False),   # month-end: due from 28 February
    (date(2027, 8, 31), date(2027, 2, 28), True),
])
def test_renewal_is_due_from_six_months_before_the_last_valid_day(valid_until: date, today: date,
                                                                  due: bool) -> None:
    assert registry.renewal_due(valid_until, today) is due


@pytest.mark.parametrize(("status", "valid_until", "valid"), [
    ("active", TODAY, True),
    ("active", date(2026, 11, 21), False),
    ("suspended", date(2030, 1, 1), False),
    ("revoked", date(2030, 1, 1), False),
    ("expired", date(2030, 1, 1), False),
    ("withdrawn", date(2030, 1, 1), False),
])
def test_only_an_active_registration_within_its_validity_is_valid(status: str, valid_until: date,
                                                                   valid: bool) -> None:
    assert registry.is_valid(status, valid_until, TODAY) is valid


# ---------------------------------------------------------------------- operator ids


@pytest.mark.parametrize(("operator_id", "country"), [
    ("12345678", "HK"),
    ("CN4403960123", "CN"),
    ("SG201912345K", "SG"),
    ("JP7010001012345", "JP"),
])
def test_operator_ids_name_their_country(operator_id: str, country: str) -> None:
    assert registry.operator_country(operator_id) == country


@pytest.mark.parametrize("operator_id", ["1234567", "123456789", "HK12345678", "cn4403960123", "CN12", "",
                                         "CN" + "1" * 34])
def test_other_ids_are_refused(operator_id: str) -> None:
    refused("INVALID_OPERATOR_ID", registry.operator_country, operator_id)


def test_the_officer_actions() -> None:
    assert set(registry.TRANSITIONS) == {"suspend", "reinstate", "revoke", "withdraw", "renew"}
