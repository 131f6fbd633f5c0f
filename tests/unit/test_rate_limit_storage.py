"""The API rate limiter's in-process storage counts like limits' ``memory://`` without
starting a timer thread on each hit."""
from __future__ import annotations

import threading

from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter

from app.web.security import SweepingMemoryStorage, limiter_storage_uri


def test_memory_storage_is_served_by_the_sweeping_storage() -> None:
    assert limiter_storage_uri("memory://") == "csw-memory://"
    assert limiter_storage_uri("redis://cache:6379") == "redis://cache:6379"


def test_a_client_over_its_limit_is_refused_and_no_thread_is_started_per_hit() -> None:
    storage = SweepingMemoryStorage("csw-memory://")
    limiter = FixedWindowRateLimiter(storage)
    limit = RateLimitItemPerSecond(5)
    threads_before = threading.active_count()
    answers = [limiter.hit(limit, "key:client") for _ in range(7)]
    assert answers == [True] * 5 + [False] * 2
    assert limiter.hit(limit, "key:another")  # counted per key
    assert threading.active_count() <= threads_before


def test_the_sweep_frees_expired_counters() -> None:
    storage = SweepingMemoryStorage("csw-memory://")
    storage.incr("key:gone", 1)
    storage.expirations["key:gone"] = 0.0  # its window is over
    storage._swept_at -= storage.SWEEP_SECONDS
    storage.incr("key:here", 60)
    assert "key:gone" not in storage.storage
    assert storage.get("key:here") == 1
