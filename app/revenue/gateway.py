"""The payment step, as an interface: a real payment gateway (bank, FPS, card acquirer) is out
of scope, so the one implementation records the payment the payer states.

A gateway is handed a ``PaymentRequest`` once the demand has been checked (the amount is the
amount due, the demand not yet paid) and answers with a ``PaymentConfirmation``, or raises
``PaymentDeclined``; the service then records the payment, its receipt and the settlement in
the same transaction. A gateway that talks to the outside world must be idempotent on
``payment_reference`` (a retried request after a lost answer charges once).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    demand_reference: str
    declaration_id: str
    payer_party_id: int
    amount: Decimal
    payment_reference: str
    at: datetime


@dataclass(frozen=True, slots=True)
class PaymentConfirmation:
    gateway: str
    gateway_reference: str
    amount: Decimal
    confirmed_at: datetime


class PaymentDeclined(Exception):
    """The gateway refused the payment (nothing is recorded)."""


class PaymentGateway(Protocol):
    """What the revenue service needs of a payment step."""

    name: str

    def collect(self, request: PaymentRequest) -> PaymentConfirmation: ...


class RecordedPayment:
    """Records the payment as stated by the payer (its reference and amount): no money moves
    here; reconciling with the bank's statement is a back-office task."""

    name = "recorded"

    def collect(self, request: PaymentRequest) -> PaymentConfirmation:
        return PaymentConfirmation(self.name, request.payment_reference, request.amount, request.at)
