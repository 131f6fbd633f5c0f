"""What AEO status does for a declaration: the benefits of the best recognised tier among
the parties that count, explained, and withheld where a hold finding applies."""
from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.declaration import Declaration, PartyRole
from app.domain.findings import Finding, Severity
from app.domain.aeo import AeoStandingView
from app.domain.problems import RulesDataError


@dataclass(frozen=True, slots=True)
class TierBenefit:
    tier: int
    risk_reduction_percent: int
    queue_priority: int
    green_lane: bool


@dataclass(frozen=True, slots=True)
class AeoBenefits:
    tiers: Mapping[int, TierBenefit]
    roles: frozenset[str]


def load_benefits(path: Path) -> AeoBenefits:
    """``rules/aeo/benefits.toml``; a wrong file stops start-up with its file and reason."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesDataError(path, 0, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesDataError(path, None, f"not valid TOML: {exc}") from None
    roles = data.get("roles")
    valid_roles = {role.value for role in PartyRole}
    if not isinstance(roles, list) or not roles or not set(roles) <= valid_roles:
        raise RulesDataError(path, None, f"roles must be a non-empty list of {', '.join(sorted(valid_roles))}")
    tiers: dict[int, TierBenefit] = {}
    for row in data.get("tier", []):
        try:
            benefit = TierBenefit(int(row["tier"]), int(row["risk_reduction_percent"]),
                                  int(row["queue_priority"]), bool(row["green_lane"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise RulesDataError(path, None, f"[[tier]] needs tier, risk_reduction_percent, queue_priority, "
                                             f"green_lane ({exc})") from None
        if benefit.tier not in (1, 2) or not 0 <= benefit.risk_reduction_percent <= 100:
            raise RulesDataError(path, None, f"tier {benefit.tier}: tier must be 1 or 2, reduction 0-100%")
        tiers[benefit.tier] = benefit
    if set(tiers) != {1, 2}:
        raise RulesDataError(path, None, "benefits are needed for tier 1 and tier 2")
    return AeoBenefits(tiers, frozenset(roles))


def party_ids(declaration: Declaration) -> set[str]:
    """Every id the registry is asked about: party ids and claimed AEO certificates."""
    ids = {party.identifier for party in declaration.parties}
    ids.update(party.aeo_id for party in declaration.parties if party.aeo_id)
    return ids


def summarise(declaration: Declaration, standings: Mapping[str, AeoStandingView],
              findings: Sequence[Finding], benefits: AeoBenefits) -> dict[str, Any]:
    """The AEO part of the decision, JSON-ready and explained in ``reasons``."""
    parties = []
    best: int | None = None
    for party in declaration.parties:
        aeo_id = party.aeo_id or party.identifier
        standing = standings.get(aeo_id)
        if standing is None and party.aeo_id is None:
            continue
        recognised = standing is not None and standing.recognised
        parties.append({"role": party.role.value, "operator_id": aeo_id,
                        "tier": standing.tier if standing else None,
                        "status": standing.status if standing else "unknown", "recognised": recognised})
        if standing is not None and recognised and party.role.value in benefits.roles:
            best = max(best or 0, standing.tier)
    held = [f.code for f in findings if f.severity in (Severity.HOLD, Severity.REJECT)]
    if best is None:
        return {"parties": parties, "tier": None, "risk_reduction_percent": 0, "queue_priority": 0,
                "green_lane_eligible": False,
                "reasons": ["no party that counts is a recognised AEO: no AEO benefit"]}
    benefit = benefits.tiers[best]
    reasons = [f"best recognised tier among {', '.join(sorted(benefits.roles))}: Tier {best}",
               f"risk score lowered by {benefit.risk_reduction_percent}%",
               f"queue priority +{benefit.queue_priority}"]
    green = benefit.green_lane and not held
    if benefit.green_lane and held:
        reasons.append(f"not eligible for the green lane: held by {', '.join(sorted(set(held)))}")
    elif green:
        reasons.append("eligible for the green lane unless a risk signal applies")
    return {"parties": parties, "tier": best, "risk_reduction_percent": benefit.risk_reduction_percent,
            "queue_priority": benefit.queue_priority, "green_lane_eligible": green, "reasons": reasons}
