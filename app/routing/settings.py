"""Dispatcher settings (CSW_DISPATCH_*, CSW_WEBHOOK_*, CSW_AMQP_*), taken from ``Settings``."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.config import Settings
from app.domain.routing import RetryPolicy


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
    def from_settings(cls, settings: Settings) -> DispatchSettings:
        return cls(
            batch_size=settings.dispatch_batch, lease_seconds=settings.dispatch_lease_seconds,
            timeout_seconds=settings.webhook_timeout_seconds, interval_seconds=settings.dispatch_interval_seconds,
            retry=RetryPolicy(base_seconds=settings.dispatch_retry_base_seconds,
                              cap_seconds=settings.dispatch_retry_cap_seconds,
                              max_attempts=settings.dispatch_max_attempts),
            probe=RetryPolicy(base_seconds=settings.dispatch_probe_base_seconds,
                              cap_seconds=settings.dispatch_probe_cap_seconds),
            amqp_url=settings.amqp_url, amqp_exchange=settings.amqp_exchange,
        )

    @classmethod
    def from_env(cls) -> DispatchSettings:
        return cls.from_settings(Settings.from_env())
