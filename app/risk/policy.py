"""The lane policy in ``rules/risk/lanes.toml``."""
from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any

from app.domain.risk import Lane, LanePolicy, LaneThresholds
from app.domain.problems import RulesDataError


def load_policy(path: Path) -> LanePolicy:
    """Read and check the policy; a wrong file stops start-up with its name and reason."""
    try:
        raw = path.read_bytes()
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise RulesDataError(path, 0, "file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesDataError(path, None, f"not valid TOML: {exc}") from None
    try:
        yellow, red = int(data["thresholds"]["yellow"]), int(data["thresholds"]["red"])
        sample = data["sample"]
        policy = LanePolicy(
            version=hashlib.sha256(raw).hexdigest()[:16],
            thresholds=LaneThresholds(yellow=yellow, red=red),
            red_findings=frozenset(data.get("findings", {}).get("red", [])),
            yellow_findings=frozenset(data.get("findings", {}).get("yellow", [])),
            red_transit_alerts=bool(data.get("transit", {}).get("red_on_alert", True)),
            aeo_green_tier=data.get("aeo", {}).get("green_tier"),
            aeo_green_below=int(data.get("aeo", {}).get("green_below", 100)),
            sample_rate=float(sample["rate"]),
            sample_lane=Lane(sample.get("lane", "red")),
            sample_seed=str(sample["seed"]),
            target_red_rate=data.get("targets", {}).get("red_rate"),
            target_yellow_rate=data.get("targets", {}).get("yellow_rate"),
            derive_thresholds=bool(data.get("targets", {}).get("derive", False)),
            recent_window=int(data.get("targets", {}).get("window", 5000)),
            recent_minimum=int(data.get("targets", {}).get("minimum", 200)),
            release_green=bool(data.get("green", {}).get("release", True)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesDataError(path, None, f"missing or malformed setting: {exc}") from None
    if not 0 <= yellow <= red <= 100:
        raise RulesDataError(path, None, "thresholds must satisfy 0 <= yellow <= red <= 100")
    if not 0 <= policy.sample_rate <= 1:
        raise RulesDataError(path, None, "sample rate must be between 0 and 1")
    if policy.derive_thresholds and not (policy.target_red_rate and policy.target_yellow_rate):
        raise RulesDataError(path, None, "[targets] derive = true needs red_rate and yellow_rate")
    return policy
