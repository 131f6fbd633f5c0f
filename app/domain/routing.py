"""Routing of notices and manifests: rule matching, retry schedule, signatures (pure).

Routes are data (``rules/routing/routes.toml``): each names the message types it carries,
optional conditions on the facts of the message, and the recipient roles that get it. The
service turns roles into subscribers; nothing here touches a database or the network.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import random
from collections.abc import Iterable
from dataclasses import dataclass, field


class MessageType(str, enum.Enum):
    RELEASE_NOTICE = "release_notice"
    REFUSAL_NOTICE = "refusal_notice"
    CANCELLATION_NOTICE = "cancellation_notice"
    MANIFEST_DECISION = "manifest_decision"
    CARGO_MANIFEST_DECISION = "cargo_manifest_decision"
    DUTY_DEMAND_NOTICE = "duty_demand_notice"
    DUTY_SETTLED_NOTICE = "duty_settled_notice"
    DUTY_REFUND_NOTICE = "duty_refund_notice"
    CARGO_LINE_OPEN_NOTICE = "cargo_line_open_notice"


class RecipientRole(str, enum.Enum):
    """Who acts on a message. Party roles resolve through the declaration's parties (or the
    trip's carrier); the others through the subscriber's code (control point or boundary)."""

    DECLARANT = "declarant"
    IMPORTER = "importer"
    EXPORTER = "exporter"
    CARRIER = "carrier"
    CONTROL_POINT = "control_point"
    TERMINAL = "terminal"
    PARTNER_CUSTOMS = "partner_customs"


PARTY_ROLES = frozenset({RecipientRole.DECLARANT, RecipientRole.IMPORTER, RecipientRole.EXPORTER,
                         RecipientRole.CARRIER})


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What a route may test about a message."""

    message_type: MessageType
    control_point: str | None = None
    transport_mode: str | None = None
    declaration_type: str | None = None
    decision: str | None = None
    cross_boundary: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One routing rule: ``message_types`` matching every given condition go to ``recipients``.
    An empty condition matches anything."""

    name: str
    message_types: frozenset[MessageType]
    recipients: tuple[RecipientRole, ...]
    control_points: frozenset[str] = field(default_factory=frozenset)
    transport_modes: frozenset[str] = field(default_factory=frozenset)
    declaration_types: frozenset[str] = field(default_factory=frozenset)
    decisions: frozenset[str] = field(default_factory=frozenset)
    cross_boundary: bool | None = None

    def matches(self, facts: MessageFacts) -> bool:
        def allowed(values: frozenset[str], value: str | None) -> bool:
            return not values or value in values

        return (facts.message_type in self.message_types
                and allowed(self.control_points, facts.control_point)
                and allowed(self.transport_modes, facts.transport_mode)
                and allowed(self.declaration_types, facts.declaration_type)
                and allowed(self.decisions, facts.decision)
                and (self.cross_boundary is None or self.cross_boundary == facts.cross_boundary))


def recipients_for(routes: Iterable[Route], facts: MessageFacts) -> tuple[RecipientRole, ...]:
    """Every recipient role of every matching route, once each, in the order first named."""
    seen: dict[RecipientRole, None] = {}
    for route in routes:
        if route.matches(facts):
            for role in route.recipients:
                seen.setdefault(role, None)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped; after ``max_attempts`` refusals (4xx) a
    message is a dead letter."""

    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    max_attempts: int = 5


def backoff_seconds(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Delay before try ``attempt + 1`` (attempt >= 1): uniform in [d/2, d] where
    d = min(cap, base * 2^(attempt-1)). Half the delay is guaranteed (no hammering), the other
    half is jitter (receivers that failed together do not retry together)."""
    ceiling = min(policy.cap_seconds, policy.base_seconds * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


class DeliveryResult(str, enum.Enum):
    DELIVERED = "delivered"
    REFUSED = "refused"        # the receiver rejected this message (4xx): retry a few times, then dead
    UNAVAILABLE = "unavailable"  # the receiver is down (5xx, timeout, connection): block and probe


TRANSIENT_CLIENT_STATUSES = frozenset({408, 425, 429})


def classify_status(status: int) -> DeliveryResult:
    """HTTP status to outcome; 408/425/429 mean 'not now', like a 5xx."""
    if 200 <= status < 300:
        return DeliveryResult.DELIVERED
    if 400 <= status < 500 and status not in TRANSIENT_CLIENT_STATUSES:
        return DeliveryResult.REFUSED
    return DeliveryResult.UNAVAILABLE


SIGNATURE_SCHEME = "sha256"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body): the receiver recomputes
    it and rejects a stale timestamp, so a captured request cannot be replayed later."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def routing_key(message_type: str, control_point: str | None) -> str:
    """AMQP topic routing key: ``<message type>.<control point>`` (``none`` without one)."""
    return f"{message_type}.{control_point or 'none'}"
