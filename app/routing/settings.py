"""Dispatcher settings from the environment (CSW_DISPATCH_*, CSW_WEBHOOK_*, CSW_AMQP_URL)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from app.domain.routing import RetryPolicy


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class DispatchSettings:
    batch_size: int = 500          # messages read for one subscriber per claim
    chunk_size: int = 100          # delivered messages recorded (and the lease renewed) this often
    lease_seconds: float = 60.0    # a crashed dispatcher's subscribers are taken over after this
    timeout_seconds: float = 10.0  # webhook connect + read timeout (then: receiver unavailable)
    interval_seconds: float = 2.0  # how often the scheduler job / `csw dispatch` polls
    retry: RetryPolicy = field(default_factory=RetryPolicy)   # 4xx: retries, then dead letter
    probe: RetryPolicy = field(default_factory=lambda: RetryPolicy(base_seconds=2.0, cap_seconds=300.0))
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    amqp_exchange: str = "csw.routing"

    @classmethod
    def from_env(cls, **overrides: Any) -> DispatchSettings:
        values: dict[str, Any] = {
            "batch_size": int(_number("CSW_DISPATCH_BATCH", 500)),
            "lease_seconds": _number("CSW_DISPATCH_LEASE_SECONDS", 60),
            "timeout_seconds": _number("CSW_WEBHOOK_TIMEOUT_SECONDS", 10),
            "interval_seconds": _number("CSW_DISPATCH_INTERVAL_SECONDS", 2),
            "retry": RetryPolicy(base_seconds=_number("CSW_DISPATCH_RETRY_BASE_SECONDS", 1),
                                 cap_seconds=_number("CSW_DISPATCH_RETRY_CAP_SECONDS", 300),
                                 max_attempts=int(_number("CSW_DISPATCH_MAX_ATTEMPTS", 5))),
            "probe": RetryPolicy(base_seconds=_number("CSW_DISPATCH_PROBE_BASE_SECONDS", 2),
                                 cap_seconds=_number("CSW_DISPATCH_PROBE_CAP_SECONDS", 300)),
            "amqp_url": os.environ.get("CSW_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            "amqp_exchange": os.environ.get("CSW_AMQP_EXCHANGE", "csw.routing"),
        }
        values.update(overrides)
        return cls(**values)
