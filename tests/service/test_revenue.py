"""Revenue use cases against a real database, wired as the app wires them: a dutiable
declaration gets a demand; the green lane releases it only once the duty is paid or secured
(deferment account in credit, or a guarantee); a payment is exactly the amount, once; an
amendment and a cancellation reconcile the demands (supplementary demand, withdrawal, refund);
notices go to the declarant through the outbox."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.db import models
from app.db.revenue_models import Payment, Refund, RevenueEvent, Security
from app.db.routing_models import OutboxMessage
from app.declarations import service as declarations
from app.domain.problems import Rejection
from app.domain.reference import RECEIPT, is_valid_reference
from app.domain.time import HONG_KONG
from app.platform.clock import utcnow
from app.revenue import queries, service
from app.revenue.gateway import RecordedPayment
from app.routing.subscribers import add_subscriber
from tests.factories import recent_movement
from tests.service.conftest import World, every_score, sample

LIQUOR_DUTY = Decimal("216000.00")


def liquor(lrn: str = "DTC-IM-LIQ-1", function: str = "9") -> bytes:
    """The liquor sample lodged on time (moved a day ago), under its own LRN."""
    body = sample("valid/import-liquor.xml")
    body = re.sub(rb"<MovementDateTime>[^<]*</MovementDateTime>",
                  f"<MovementDateTime>{recent_movement()}</MovementDateTime>".encode(), body)
    body = re.sub(rb"<FunctionalReferenceID>[^<]*</FunctionalReferenceID>",
                  f"<FunctionalReferenceID>{lrn}</FunctionalReferenceID>".encode(), body)
    return body.replace(b"<FunctionCode>9</FunctionCode>", f"<FunctionCode>{function}</FunctionCode>".encode())


def status_of(world: World, reference: str) -> str:
    with world.session() as session:
        row = session.get(models.Declaration, reference)
        assert row is not None
        return row.status


def demands(world: World, reference: str) -> list[tuple[str, Decimal]]:
    with world.session() as session:
        return [(d.state, Decimal(d.amount)) for d in service.demands_of(session, reference)]


def pay(world: World, reference: str, amount: object, payment_reference: object = "BANK-0001"
        ) -> service.PaymentRecorded:
    with world.uow() as uow:
        uow.write_lock()
        recorded = service.pay(uow.session, reference, world.trader, amount, payment_reference, RecordedPayment())
        uow.commit()
        return recorded


def open_account(world: World, limit: str, kind: str = "deferment", until: date | None = None) -> int:
    with world.uow() as uow:
        uow.write_lock()
        security = service.open_security(uow.session, world.trader.party_identifier or "", kind, f"{kind[:3]}-1",
                                         limit, until, "test")
        uow.commit()
        return security.id


def test_a_green_dutiable_declaration_waits_for_its_duty_then_is_released_on_payment(world: World) -> None:
    every_score(world, "green", release_green=True)
    outcome = world.lodge(liquor())
    reference = outcome.receipt.id
    assert outcome.receipt.status == "accepted" and outcome.receipt.awaiting_duty
    assert status_of(world, reference) == "accepted"
    assert demands(world, reference) == [("due", LIQUOR_DUTY)]
    recorded = pay(world, reference, "216000.00")
    assert recorded.all_settled and is_valid_reference(recorded.payment.receipt_number, RECEIPT)
    assert status_of(world, reference) == "released"
    with world.session() as session:
        kinds = [e.kind for e in session.scalars(select(models.DeclarationEvent).where(
            models.DeclarationEvent.declaration_id == reference).order_by(models.DeclarationEvent.id))]
        assert kinds == ["submitted", "release_awaiting_duty", "released"]
        revenue = [e.kind for e in session.scalars(select(RevenueEvent).order_by(RevenueEvent.id))]
        assert revenue == ["raised", "paid"]


def test_a_declaration_without_duty_is_released_at_once(world: World) -> None:
    every_score(world, "green", release_green=True)
    outcome = world.lodge(liquor().replace(b"<AlcoholStrengthPercent>40</AlcoholStrengthPercent>",
                                           b"<AlcoholStrengthPercent>30</AlcoholStrengthPercent>"))
    assert outcome.receipt.status == "released" and not outcome.receipt.awaiting_duty
    assert demands(world, outcome.receipt.id) == []


def test_a_deferment_account_in_credit_secures_the_duty_and_the_goods_go(world: World) -> None:
    every_score(world, "green", release_green=True)
    account = open_account(world, "500000.00")
    reference = world.lodge(liquor()).receipt.id
    assert status_of(world, reference) == "released"
    assert demands(world, reference) == [("secured", LIQUOR_DUTY)]
    with world.session() as session:
        security = session.get(Security, account)
        assert security is not None and security.balance == LIQUOR_DUTY
    pay(world, reference, "216000.00")  # the account is paid off later
    assert demands(world, reference) == [("paid", LIQUOR_DUTY)]
    with world.session() as session:
        security = session.get(Security, account)
        assert security is not None and security.balance == Decimal("0.00")


def test_an_account_without_enough_credit_secures_nothing(world: World) -> None:
    every_score(world, "green", release_green=True)
    open_account(world, "100000.00")
    reference = world.lodge(liquor()).receipt.id
    assert status_of(world, reference) == "accepted"
    assert demands(world, reference) == [("due", LIQUOR_DUTY)]


def test_an_expired_guarantee_secures_nothing_a_valid_one_does(world: World) -> None:
    every_score(world, "green", release_green=True)
    open_account(world, "300000.00", "guarantee", until=date.today() - timedelta(days=2))
    first = world.lodge(liquor("DTC-LIQ-G1")).receipt.id
    assert demands(world, first) == [("due", LIQUOR_DUTY)]
    with world.uow() as uow:
        uow.write_lock()
        service.open_security(uow.session, world.trader.party_identifier or "", "guarantee", "gua-2", "300000.00",
                              date.today() + timedelta(days=30), "test")
        assert service.secure_due(uow.session, first, "test")
        uow.commit()
    assert status_of(world, first) == "released"


def test_bad_payments_are_refused_and_change_nothing(world: World) -> None:
    every_score(world, "green", release_green=True)
    reference = world.lodge(liquor()).receipt.id
    cases = [("216000.01", "OVERPAYMENT"), ("215999.99", "UNDERPAYMENT"), ("-5", "INVALID_AMOUNT"),
             ("0", "INVALID_AMOUNT"), ("lots", "INVALID_AMOUNT"), ("1e3", "INVALID_AMOUNT"),
             ("216000.001", "INVALID_AMOUNT"), (True, "INVALID_AMOUNT"), (None, "INVALID_AMOUNT")]
    for amount, code in cases:
        with pytest.raises(Rejection) as refused:
            pay(world, reference, amount)
        assert refused.value.code == code, amount
        assert refused.value.problems[0].path == "amount"
    with pytest.raises(Rejection) as refused:
        pay(world, reference, "216000.00", "")
    assert refused.value.code == "INVALID_PAYMENT_REFERENCE"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
    assert demands(world, reference) == [("due", LIQUOR_DUTY)] and status_of(world, reference) == "accepted"
    pay(world, reference, "216000.00")
    with pytest.raises(Rejection) as again:
        pay(world, reference, "216000.00", "BANK-0002")
    assert again.value.code == "DEMAND_ALREADY_PAID"
    with world.session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_another_partys_declaration_answers_as_missing(world: World) -> None:
    reference = world.lodge(liquor()).receipt.id
    with world.uow() as uow, pytest.raises(Rejection) as refused:
        service.pay(uow.session, reference, world.carrier, "216000.00", "X", RecordedPayment())
    assert refused.value.code == "NOT_FOUND"


def test_an_officers_release_waits_for_the_duty(world: World) -> None:
    every_score(world, "yellow")
    reference = world.lodge(liquor()).receipt.id
    with world.uow() as uow:
        row = uow.session.get(models.Declaration, reference)
        assert row is not None
        assert not declarations.release(uow.session, row, "officer:1", None, "documents in order")
        uow.commit()
    assert status_of(world, reference) == "accepted"
    pay(world, reference, "216000.00")
    assert status_of(world, reference) == "released"


def test_a_raised_duty_on_amendment_is_a_supplementary_demand(world: World) -> None:
    every_score(world, "yellow")
    reference = world.lodge(liquor()).receipt.id
    pay(world, reference, "216000.00")
    amended = liquor(function="13").replace(b'<CustomsValueAmount currencyID="HKD">216000.00</CustomsValueAmount>',
                                            b'<CustomsValueAmount currencyID="HKD">220000.00</CustomsValueAmount>')
    amended = amended.replace(b'<CustomsValueAmount currencyID="HKD">444000.00</CustomsValueAmount>',
                              b'<CustomsValueAmount currencyID="HKD">448000.00</CustomsValueAmount>')
    from app.declarations import pipeline

    with world.uow() as uow:
        lodged = pipeline.lodge(uow, world.runtime.lodging, amended,
                                pipeline.amendment(reference, world.trader, "test"), reference)
        uow.commit()
    assert lodged.assessed.charges.duty_total > LIQUOR_DUTY
    extra = lodged.assessed.charges.duty_total - LIQUOR_DUTY
    assert demands(world, reference) == [("paid", LIQUOR_DUTY), ("due", extra)]


def test_cancelling_refunds_paid_duty_and_releases_securities(world: World) -> None:
    every_score(world, "yellow")
    paid = world.lodge(liquor("DTC-LIQ-P")).receipt.id
    pay(world, paid, "216000.00")
    account = open_account(world, "500000.00")
    secured = world.lodge(liquor("DTC-LIQ-S")).receipt.id
    assert demands(world, secured) == [("secured", LIQUOR_DUTY)]
    for reference in (paid, secured):
        with world.uow() as uow:
            declarations.cancel(uow.session, reference, "order withdrawn", world.trader, "test")
            uow.commit()
    with world.session() as session:
        refunds = list(session.scalars(select(Refund)))
        assert [(r.declaration_id, r.amount, r.commodities) for r in refunds] == [
            (paid, LIQUOR_DUTY, {"liquor": "216000.00"})]
        security = session.get(Security, account)
        assert security is not None and security.balance == Decimal("0.00")
    assert demands(world, secured) == [("withdrawn", LIQUOR_DUTY)]
    statement = None
    with world.session() as session:
        statement = queries.statement(session, paid, world.trader.party_id)
    assert statement.status == "paid" and statement.refunded == LIQUOR_DUTY


def test_notices_go_to_the_declarant_when_duty_is_demanded_settled_and_refunded(world: World) -> None:
    with world.runtime.sessions() as session, session.begin():
        add_subscriber(session, "trader", "party", "pull", party_identifier=world.trader.party_identifier,
                       actor="test")
    every_score(world, "yellow")
    reference = world.lodge(liquor()).receipt.id
    pay(world, reference, "216000.00")
    with world.uow() as uow:
        declarations.cancel(uow.session, reference, "order withdrawn", world.trader, "test")
        uow.commit()
    with world.session() as session:
        kinds = [m.message_type for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        bodies = [bytes(m.body) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["duty_demand_notice", "duty_settled_notice", "cancellation_notice", "duty_refund_notice"]
    assert b"216000.00" in bodies[0] and b"DutyDemandNotice" in bodies[0]


def test_the_officers_list_shows_unpaid_dutiable_declarations(world: World) -> None:
    every_score(world, "green", release_green=True)
    first = world.lodge(liquor("DTC-LIQ-1")).receipt.id
    second = world.lodge(liquor("DTC-LIQ-2")).receipt.id
    pay(world, second, "216000.00")
    with world.session() as session:
        rows, count = queries.unpaid(session)
    assert count == 1 and [row.declaration_id for row in rows] == [first] and rows[0].release_waits


def test_the_report_adds_up_charges_and_duty_per_day_and_commodity(world: World) -> None:
    every_score(world, "green", release_green=True)
    first = world.lodge(liquor("DTC-LIQ-1")).receipt.id
    world.lodge(liquor("DTC-LIQ-2"))
    pay(world, first, "216000.00")
    today = utcnow().astimezone(HONG_KONG).date()
    with world.session() as session:
        result = queries.report(session, today - timedelta(days=1), today)
    row = result.days[today]
    assert row["declarations"] == 2 and row["duty_demanded"] == 2 * LIQUOR_DUTY
    assert row["duty_paid"] == LIQUOR_DUTY and row["declaration_charge"] == Decimal("100.00")
    assert result.commodities["liquor"]["duty_paid"] == LIQUOR_DUTY
    assert result.days[today - timedelta(days=1)]["declarations"] == 0
