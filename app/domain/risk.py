"""Risk scoring as plain data: the canonical risk record of a goods item, the reasons a
score is made of, the lane policy and the random compliance draw.

Nothing here knows about Flask, SQLAlchemy or the learned model's library, so the lane
decision and the sample draw can be tested (and reasoned about) on their own.
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class Lane(str, enum.Enum):
    """ASYCUDA practice: green = release, yellow = documentary check, red = physical inspection."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class InspectionResult(str, enum.Enum):
    NO_DISCREPANCY = "no_discrepancy"
    DISCREPANCY = "discrepancy"
    SEIZURE = "seizure"

    @property
    def is_fraud(self) -> bool:
        return self is not InspectionResult.NO_DISCREPANCY


@dataclass(frozen=True, slots=True)
class RiskRecord:
    """One goods item of one declaration, in the terms the risk module reasons in.

    Built from a stored declaration (``app.risk.records``) or from a row of historical data
    (``app.risk.importer`` with a column mapping); ``extras`` carries source-specific codes
    (e.g. payment type) that the learned model may use as categories."""

    declaration_id: str
    item_sequence: int
    declared_on: date | None
    hs_code: str
    origin_country: str
    departure_country: str
    declaration_type: str
    transport_mode: str
    office: str
    importer: str
    declarant: str
    seller: str
    carrier: str
    value: float
    net_mass: float
    tax_rate: float
    aeo_tier: int | None = None
    findings: tuple[str, ...] = ()
    transit_alerts: tuple[str, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()
    fraud: bool | None = None
    revenue: float | None = None

    @property
    def hs6(self) -> str:
        return self.hs_code[:6]

    @property
    def duty(self) -> float:
        return self.value * self.tax_rate / 100.0

    @property
    def unit_value(self) -> float:
        return self.value / self.net_mass if self.net_mass > 0 else 0.0

    def extra(self, name: str) -> str:
        for key, value in self.extras:
            if key == name:
                return value
        return ""


@dataclass(frozen=True, slots=True)
class Reason:
    """One contribution to a score: points (negative lowers the risk) and words an officer reads."""

    code: str
    points: float
    text: str


@dataclass(frozen=True, slots=True)
class LaneThresholds:
    """Scores at or above ``red`` go red, at or above ``yellow`` go yellow."""

    yellow: int
    red: int


@dataclass(frozen=True, slots=True)
class LanePolicy:
    """``rules/risk/lanes.toml``: thresholds (set directly or derived from target inspection
    rates), the findings that force a lane, the AEO green rule and the random sample."""

    version: str
    thresholds: LaneThresholds
    red_findings: frozenset[str] = frozenset()
    yellow_findings: frozenset[str] = frozenset()
    red_transit_alerts: bool = True
    aeo_green_tier: int | None = 2
    aeo_green_below: int = 80
    sample_rate: float = 0.01
    sample_lane: Lane = Lane.RED
    sample_seed: str = "csw"
    target_red_rate: float | None = None
    target_yellow_rate: float | None = None
    derive_thresholds: bool = False
    recent_window: int = 5000
    recent_minimum: int = 200
    release_green: bool = True


@dataclass(frozen=True, slots=True)
class LaneDecision:
    lane: Lane
    reason: str
    random_sample: bool
    sample_draw: float


def sample_draw(seed: str, declaration_key: str, variant: str | int) -> float:
    """A uniform number in [0, 1) fixed by the seed, the declaration (declarant/LRN) and the
    document version's hash: independent of the score, reproducible by anyone holding the
    seed, the same for an identical re-send and drawn afresh for an amendment."""
    digest = hashlib.sha256(f"{seed}\0{declaration_key}\0{variant}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide_lane(policy: LanePolicy, score: int, findings: tuple[str, ...], transit_alerts: tuple[str, ...],
                aeo_tier: int | None, green_lane_eligible: bool, draw: float) -> LaneDecision:
    """Random sample first (independent of the score), then hard signals, then the AEO green
    rule, then the score thresholds."""
    sampled = draw < policy.sample_rate
    if sampled:
        return LaneDecision(policy.sample_lane, f"random compliance sample ({policy.sample_rate:.2%} of "
                                                 f"declarations, draw {draw:.6f})", True, draw)
    red_hits = sorted(set(findings) & policy.red_findings)
    if red_hits:
        return LaneDecision(Lane.RED, f"rule finding {', '.join(red_hits)} requires inspection", False, draw)
    if transit_alerts and policy.red_transit_alerts:
        return LaneDecision(Lane.RED, f"transit alert: {', '.join(sorted(set(transit_alerts)))}", False, draw)
    yellow_hits = sorted(set(findings) & policy.yellow_findings)
    if (policy.aeo_green_tier is not None and aeo_tier is not None and aeo_tier >= policy.aeo_green_tier
            and green_lane_eligible and not yellow_hits and score < policy.aeo_green_below):
        return LaneDecision(Lane.GREEN, f"AEO tier {aeo_tier} with clean findings and score {score} "
                                        f"below {policy.aeo_green_below}", False, draw)
    if score >= policy.thresholds.red:
        return LaneDecision(Lane.RED, f"score {score} at or above the red threshold {policy.thresholds.red}",
                            False, draw)
    if yellow_hits:
        return LaneDecision(Lane.YELLOW, f"rule finding {', '.join(yellow_hits)} needs a documentary check",
                            False, draw)
    if score >= policy.thresholds.yellow:
        return LaneDecision(Lane.YELLOW, f"score {score} at or above the yellow threshold "
                                         f"{policy.thresholds.yellow}", False, draw)
    return LaneDecision(Lane.GREEN, f"score {score} below the yellow threshold {policy.thresholds.yellow}",
                        False, draw)


def thresholds_for_rates(recent_scores: list[int], red_rate: float, yellow_rate: float) -> LaneThresholds:
    """Thresholds that would have sent ``red_rate`` of recent declarations red and ``yellow_rate``
    yellow: the score at the matching quantile from the top (at least 1 point apart)."""
    if not recent_scores:
        raise ValueError("no recent scores to derive thresholds from")
    ranked = sorted(recent_scores, reverse=True)

    def at(rate: float) -> int:
        index = min(len(ranked) - 1, max(0, int(round(rate * len(ranked))) - 1))
        return ranked[index]

    red = max(1, at(red_rate))
    yellow = min(red - 1, at(red_rate + yellow_rate)) if red > 0 else 0
    return LaneThresholds(yellow=max(0, yellow), red=red)


@dataclass(frozen=True, slots=True)
class RiskResult:
    """The risk part of a declaration's decision, as stored and acknowledged."""

    score: int
    probability: float
    revenue_at_stake: Decimal
    reasons: tuple[Reason, ...]
    lane: Lane
    lane_reason: str
    random_sample: bool
    sample_draw: float
    sample_seed: str
    model_version: str
    policy_version: str
    item_scores: tuple[int, ...] = field(default=())
    release: bool = False  # green lane under a policy that releases on assessment

    def top_reasons(self, count: int = 3) -> tuple[Reason, ...]:
        return tuple(sorted((r for r in self.reasons if r.points > 0), key=lambda r: -r.points)[:count])
