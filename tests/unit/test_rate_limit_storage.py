"""The API rate limiter's per-worker counters: a client's allowance comes back when its window
ends, and a busy worker starts no thread to sweep them."""
from __future__ import annotations

import threading

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from app.web import ratelimit


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ratelimit.time, "time", fake)
    return fake


def test_memory_means_the_workers_own_counters_and_other_storages_stay_as_configured() -> None:
    assert isinstance(storage_from_string(ratelimit.storage_uri("memory://")), ratelimit.WorkerMemoryStorage)
    assert ratelimit.storage_uri("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_a_client_over_its_rate_is_refused_until_its_window_ends(clock: Clock) -> None:
    limiter = FixedWindowRateLimiter(ratelimit.WorkerMemoryStorage())
    three_a_minute = RateLimitItemPerMinute(3)
    assert [limiter.hit(three_a_minute, "client-a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three_a_minute, "client-b")  # each client has its own allowance
    clock.now += 30
    assert not limiter.hit(three_a_minute, "client-a")
    assert limiter.get_window_stats(three_a_minute, "client-a").reset_time == pytest.approx(1_000_060.0)
    clock.now += 31
    assert limiter.hit(three_a_minute, "client-a")
    assert limiter.get_window_stats(three_a_minute, "client-a").remaining == 2


def test_counting_starts_no_thread(clock: Clock) -> None:
    storage = ratelimit.WorkerMemoryStorage()
    limiter = FixedWindowRateLimiter(storage)
    before = threading.active_count()
    for second in range(5):
        clock.now += 1.5  # past every sweep
        limiter.hit(RateLimitItemPerMinute(1000), f"client-{second}")
    assert threading.active_count() == before
