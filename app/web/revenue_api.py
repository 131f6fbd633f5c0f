"""Duty and payments in the system-to-system API (XML by default, JSON on request):

- ``GET /api/v1/declarations/<id>/duty``: the declaration's duty statement (demands, payments,
  refunds, what is due, whether the release waits for it);
- ``POST /api/v1/declarations/<id>/duty/payments``: pay the duty due (JSON ``amount`` and
  ``payment_reference``, optional ``demand_id``): 201 with the receipt;
- ``GET /api/v1/receipts/<number>``: a receipt;
- ``GET /api/v1/duty/account``: the caller's deferment accounts and guarantees, and the duty
  secured on them and not yet paid.

Thin: parse the request, call ``app.revenue``, commit, render. A trader sees its own party's
declarations and receipts only; another's answer as missing ones.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, url_for

from app.db.revenue_models import DutyDemand, Payment, Refund, Security
from app.domain.problems import Problem, Rejection
from app.domain.reference import DEMAND, is_valid_reference
from app.revenue import queries, service
from app.web import params
from app.web.api import authenticated_caller
from app.web.context import db, services, unit_of_work
from app.web.envelope import respond

bp = Blueprint("revenue_api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _money(value: object) -> str:
    return f"{value:.2f}"


def demand_payload(demand: DutyDemand, payment: Payment | None = None) -> dict[str, Any]:
    return {
        "demand_id": demand.reference, "amount": _money(demand.amount), "state": demand.state,
        "raised_datetime": demand.raised_at, "secured_datetime": demand.secured_at, "paid_datetime": demand.paid_at,
        "withdrawn_datetime": demand.withdrawn_at,
        "security": f"{demand.security.kind} {demand.security.reference}" if demand.security else None,
        "receipt_id": payment.receipt_number if payment else None,
        "refunded": _money(demand.refunded),
        "commodities": [{"name": name, "amount": amount} for name, amount in sorted(demand.commodities.items())],
    }


def payment_payload(payment: Payment, demand: DutyDemand) -> dict[str, Any]:
    return {
        "receipt_id": payment.receipt_number, "declaration_id": payment.declaration_id,
        "demand_id": demand.reference, "amount": _money(payment.amount), "currency": "HKD",
        "payment_reference": payment.payment_reference, "gateway": payment.gateway,
        "received_datetime": payment.received_at,
    }


def refund_payload(refund: Refund, demand: DutyDemand | None) -> dict[str, Any]:
    return {"refund_id": refund.reference, "demand_id": demand.reference if demand else None,
            "amount": _money(refund.amount), "reason": refund.reason, "refunded_datetime": refund.created_at}


def statement_payload(statement: queries.Statement) -> dict[str, Any]:
    by_id = {d.id: d for d in statement.demands}
    return {
        "declaration_id": statement.declaration_id, "status": statement.status, "currency": "HKD",
        "amount_due": _money(statement.due), "amount_secured": _money(statement.secured),
        "amount_paid": _money(statement.paid), "amount_refunded": _money(statement.refunded),
        "release_waits_for_duty": statement.release_waits,
        "demands": [demand_payload(d, statement.payment_of(d)) for d in statement.demands],
        "payments": [payment_payload(p, by_id[p.demand_id]) for p in statement.payments],
        "refunds": [refund_payload(r, by_id.get(r.demand_id)) for r in statement.refunds],
    }


@bp.get("/declarations/<reference>/duty")
def duty_statement(reference: str) -> Response:
    caller = authenticated_caller()
    statement = queries.statement(db(), reference, caller.party_id)
    return respond("DutyStatement", {"conversation_id": g.conversation_id, **statement_payload(statement)})


@bp.post("/declarations/<reference>/duty/payments")
def pay_duty(reference: str) -> Response:
    caller = authenticated_caller()
    body = params.json_object("the payment")
    unknown = sorted(set(body) - {"amount", "payment_reference", "demand_id"})
    if unknown:
        raise Rejection("INVALID_PARAMETER", f"unknown field {unknown[0][:40]!r}",
                        [Problem(message="not a field of a payment", path=unknown[0][:40], rule="known-fields")])
    demand_reference = body.get("demand_id")
    if demand_reference is not None and not (isinstance(demand_reference, str)
                                             and is_valid_reference(demand_reference, DEMAND)):
        raise Rejection("INVALID_PARAMETER", "demand_id is not a duty demand reference",
                        [Problem(message=f"got {str(demand_reference)[:40]!r}", path="demand_id",
                                 rule="reference-check-character")])
    uow = unit_of_work().write_lock()
    recorded = service.pay(uow.session, reference, caller, body.get("amount"), body.get("payment_reference"),
                           services().payments, demand_reference=demand_reference)
    uow.commit()
    payload = {"conversation_id": g.conversation_id, **payment_payload(recorded.payment, recorded.demand),
               "all_settled": recorded.all_settled}
    location = url_for("revenue_api.get_receipt", number=recorded.payment.receipt_number)
    return respond("PaymentReceipt", payload, 201, {"Location": location})


@bp.get("/receipts/<number>")
def get_receipt(number: str) -> Response:
    caller = authenticated_caller()
    payment, demand = queries.receipt(db(), number, caller.party_id)
    return respond("PaymentReceipt", {"conversation_id": g.conversation_id, **payment_payload(payment, demand)})


def security_payload(security: Security) -> dict[str, Any]:
    return {"kind": security.kind, "reference": security.reference, "status": security.status,
            "limit": _money(security.limit_amount), "balance": _money(security.balance),
            "available": _money(max(security.limit_amount - security.balance, 0)),
            "valid_until": security.valid_until.isoformat() if security.valid_until else None}


@bp.get("/duty/account")
def duty_account() -> Response:
    caller = authenticated_caller()
    if caller.party_id is None:
        raise Rejection("NOT_FOUND", "this client acts for no party")
    account = queries.account(db(), caller.party_id)
    return respond("DutyAccount", {
        "conversation_id": g.conversation_id, "currency": "HKD",
        "securities": [security_payload(s) for s in account.securities],
        "secured_demands": [{"declaration_id": d.declaration_id, **demand_payload(d)} for d in account.secured],
    })

