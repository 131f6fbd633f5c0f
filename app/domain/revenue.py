"""Duty demands, payments, securities and refunds as pure rules.

A dutiable declaration is owed its duty (``app.domain.charges``: liquor, tobacco, hydrocarbon
oil, methyl alcohol on imports). The revenue capability raises a **duty demand** for it; the
goods are released only once every demand of the declaration is **settled**: paid, or secured
by the declarant's deferment account (a limit and a running balance) or bank guarantee. When
the duty changes (an amendment) or falls away (a cancellation or refusal), the demands are
**reconciled** with the duty now owed: unpaid demands are withdrawn, securities released,
paid duty refunded, and what is still owed raised as a new demand.

A demand is paid once, for exactly what it asks (a supplementary demand covers a rise); so an
overpayment, an underpayment, a second payment and a payment of a withdrawn demand are refused
with a machine-readable code and nothing changes.

Pure: no database, no clock (``now`` and ``on`` are parameters).
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999999999.99")  # what a Numeric(18, 2) column holds
MAX_PAYMENT_REFERENCE = 35


class DemandState(str, enum.Enum):
    """``due``: waiting for payment; ``secured``: covered by a deferment account or guarantee
    (the goods may go, the duty is still to be paid); ``paid``; ``withdrawn``: no longer owed."""

    DUE = "due"
    SECURED = "secured"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


SETTLED_STATES = frozenset({DemandState.SECURED, DemandState.PAID})


class SecurityKind(str, enum.Enum):
    DEFERMENT = "deferment"
    GUARANTEE = "guarantee"


class SecurityStatus(str, enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class RevenueRuleError(ValueError):
    """A request the revenue rules refuse; ``code`` is machine-readable, ``field`` the input
    at fault, ``message_zh`` the Traditional Chinese words for people."""

    def __init__(self, code: str, message: str, field: str | None = None, message_zh: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.message_zh = message_zh


# --- amounts and references ----------------------------------------------------------------

def parse_amount(raw: object, field: str = "amount") -> Decimal:
    """An amount of money in HKD as the payer typed it: a plain decimal number (a string or a
    JSON number, not a boolean), more than zero, at most two decimals, within what is stored."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise RevenueRuleError("INVALID_AMOUNT", f"{field} must be a number of Hong Kong dollars, e.g. \"216000.00\"",
                               field, f"{field} 須為港幣金額，例如 \"216000.00\"")
    text = str(raw).strip() if not isinstance(raw, float) else repr(raw)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not text or any(c not in "0123456789.+-" for c in text):
        raise RevenueRuleError("INVALID_AMOUNT", f"{field} {text[:40]!r} is not a number of Hong Kong dollars",
                               field, f"{field} {text[:40]!r} 不是港幣金額")
    if amount <= 0:
        raise RevenueRuleError("INVALID_AMOUNT", f"{field} must be more than zero (got {text[:40]})", field,
                               f"{field} 必須大於零（收到 {text[:40]}）")
    if amount != amount.quantize(CENT):
        raise RevenueRuleError("INVALID_AMOUNT", f"{field} has more than two decimals (got {text[:40]})", field,
                               f"{field} 的小數位超過兩位（收到 {text[:40]}）")
    if amount > MAX_AMOUNT:
        raise RevenueRuleError("INVALID_AMOUNT", f"{field} is larger than any amount this service records", field,
                               f"{field} 超出本系統可記錄的金額")
    return amount.quantize(CENT)


def parse_payment_reference(raw: object) -> str:
    """The payer's own reference of the payment (bank transfer, gateway transaction): 1 to 35
    printable characters."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text or len(text) > MAX_PAYMENT_REFERENCE or not text.isprintable():
        raise RevenueRuleError("INVALID_PAYMENT_REFERENCE",
                               f"payment_reference must be 1 to {MAX_PAYMENT_REFERENCE} printable characters "
                               "(your bank's or payment service's reference)", "payment_reference",
                               f"payment_reference 須為1至{MAX_PAYMENT_REFERENCE}個可列印字元"
                               "（銀行或付款服務的參考編號）")
    return text


# --- payments --------------------------------------------------------------------------------

def check_payment(state: DemandState, amount_due: Decimal, amount: Decimal, demand_reference: str) -> None:
    """Raise ``RevenueRuleError`` unless ``amount`` settles a demand in ``state`` exactly."""
    if state is DemandState.PAID:
        raise RevenueRuleError("DEMAND_ALREADY_PAID", f"duty demand {demand_reference} is already paid", "amount",
                               f"稅款繳付通知 {demand_reference} 已繳付")
    if state is DemandState.WITHDRAWN:
        raise RevenueRuleError("DEMAND_WITHDRAWN", f"duty demand {demand_reference} was withdrawn: nothing is owed "
                               "on it", "amount", f"稅款繳付通知 {demand_reference} 已撤回，毋須繳付")
    if amount > amount_due:
        raise RevenueRuleError("OVERPAYMENT", f"HK${amount:,} is more than the HK${amount_due:,} due on "
                               f"demand {demand_reference}", "amount",
                               f"港幣 {amount:,} 元多於繳付通知 {demand_reference} 應繳的港幣 {amount_due:,} 元")
    if amount < amount_due:
        raise RevenueRuleError("UNDERPAYMENT", f"HK${amount:,} is less than the HK${amount_due:,} due on "
                               f"demand {demand_reference}: a demand is paid in full, once", "amount",
                               f"港幣 {amount:,} 元少於繳付通知 {demand_reference} 應繳的港幣 {amount_due:,} 元："
                               "繳付通知須一次過全數繳付")


# --- securities ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SecurityView:
    """A deferment account or guarantee as the rules need it."""

    id: int
    kind: SecurityKind
    status: SecurityStatus
    limit: Decimal
    balance: Decimal  # secured and not yet paid
    valid_until: date | None = None

    @property
    def headroom(self) -> Decimal:
        return max(self.limit - self.balance, ZERO)

    def can_secure(self, amount: Decimal, on: date) -> bool:
        """Active, not expired, and in credit for ``amount``."""
        return (self.status is SecurityStatus.ACTIVE and (self.valid_until is None or on <= self.valid_until)
                and self.headroom >= amount)


def security_for(securities: Iterable[SecurityView], amount: Decimal, on: date) -> SecurityView | None:
    """The security that takes ``amount``: a deferment account before a guarantee, the oldest
    first; None when none is in credit for it."""
    order = {SecurityKind.DEFERMENT: 0, SecurityKind.GUARANTEE: 1}
    for security in sorted(securities, key=lambda s: (order[s.kind], s.id)):
        if security.can_secure(amount, on):
            return security
    return None


# --- reconciling demands with the duty owed -------------------------------------------------

@dataclass(frozen=True, slots=True)
class DemandView:
    id: int
    state: DemandState
    amount: Decimal
    refunded: Decimal = ZERO
    commodities: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def kept(self) -> Decimal:
        """What the demand holds towards the duty: paid less refunded, or secured."""
        if self.state is DemandState.PAID:
            return self.amount - self.refunded
        return self.amount if self.state is DemandState.SECURED else ZERO


@dataclass(frozen=True, slots=True)
class Plan:
    """What reconciling does: withdraw unpaid demands, release secured ones (withdrawn, the
    security's balance restored), refund paid ones (demand id, amount), and raise a demand for
    what is still owed (with its split by commodity)."""

    withdraw: tuple[int, ...] = ()
    release: tuple[int, ...] = ()
    refunds: tuple[tuple[int, Decimal], ...] = ()
    raise_amount: Decimal = ZERO
    raise_commodities: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.withdraw or self.release or self.refunds or self.raise_amount > 0)


def reconcile(duty: Decimal, commodities: Mapping[str, Decimal], demands: Sequence[DemandView]) -> Plan:
    """Bring the demands of a declaration in line with ``duty`` now owed (0 when cancelled or
    refused), split by commodity as ``commodities``. Unpaid demands are withdrawn; when more is
    held than owed, secured demands are released first (newest first), then paid ones refunded
    (newest first); what is still owed is raised anew."""
    duty = max(duty, ZERO).quantize(CENT)
    withdraw = tuple(d.id for d in demands if d.state is DemandState.DUE)
    held = [d for d in demands if d.state in SETTLED_STATES]
    total = sum((d.kept for d in held), ZERO)
    release: list[int] = []
    for demand in sorted((d for d in held if d.state is DemandState.SECURED), key=lambda d: d.id, reverse=True):
        if total <= duty:
            break
        release.append(demand.id)
        total -= demand.amount
    refunds: list[tuple[int, Decimal]] = []
    excess = total - duty
    for demand in sorted((d for d in held if d.state is DemandState.PAID), key=lambda d: d.id, reverse=True):
        if excess <= 0:
            break
        take = min(excess, demand.kept)
        if take > 0:
            refunds.append((demand.id, take))
            excess -= take
            total -= take
    owed = max(duty - total, ZERO)
    split: dict[str, Decimal] = {}
    if owed > 0:
        kept = _kept_by_commodity([d for d in held if d.id not in set(release)])
        split = {c: commodities.get(c, ZERO) - kept.get(c, ZERO) for c in sorted({*commodities, *kept})}
        split = _balanced({c: v for c, v in split.items() if v != 0}, owed)
    return Plan(withdraw, tuple(release), tuple(refunds), owed, split)


def _kept_by_commodity(demands: Iterable[DemandView]) -> dict[str, Decimal]:
    """What the demands hold, by commodity (a partly refunded demand in proportion)."""
    kept: dict[str, Decimal] = {}
    for demand in demands:
        share = demand.kept / demand.amount if demand.amount else ZERO
        for commodity, amount in demand.commodities.items():
            kept[commodity] = kept.get(commodity, ZERO) + (amount * share).quantize(CENT)
    return kept


def _balanced(split: dict[str, Decimal], owed: Decimal) -> dict[str, Decimal]:
    """``split`` adjusted on its largest line so that it adds up to ``owed`` (rounding)."""
    if not split:
        return {"duty": owed}
    gap = owed - sum(split.values(), ZERO)
    if gap == 0:
        return split
    largest = max(split, key=lambda c: abs(split[c]))
    return {**split, largest: split[largest] + gap}


def status_of(demands: Sequence[DemandView]) -> str:
    """A declaration's duty status for people: ``none`` (no duty), ``due`` (something to pay
    before release), ``secured`` (released against security, payment outstanding) or ``paid``."""
    live = [d for d in demands if d.state is not DemandState.WITHDRAWN]
    if not live:
        return "none"
    if any(d.state is DemandState.DUE for d in live):
        return "due"
    if any(d.state is DemandState.SECURED for d in live):
        return "secured"
    return "paid"
