"""The API rate limiter's per-worker counters (``CSW_RATE_LIMIT_STORAGE=memory://``).

Why not the ``limits`` library's own memory storage: it sweeps expired counters on a
``threading.Timer`` of 10 ms that it starts again on the first hit after each sweep, so a busy
worker starts a thread on most requests and waits for it to run (``Thread.start``): about a
quarter of a kiosk decision's time under cProfile, and milliseconds of latency whenever the
worker's other threads hold the interpreter. These counters do the same fixed-window counting and sweep expired keys
inline, at most once a second, under one lock.
"""
from __future__ import annotations

import threading
import time

from limits.storage import Storage

#: The scheme ``init_security`` uses for ``memory://``.
SCHEME = "csw-memory"
SWEEP_EVERY_S = 1.0


class WorkerMemoryStorage(Storage):
    """Fixed-window counters in this process's memory (the strategy the limiter uses)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        self._counts: dict[str, int] = {}
        self._expiries: dict[str, float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _sweep(self, now: float) -> None:
        """Forget expired windows (the lock is held)."""
        self._next_sweep = now + SWEEP_EVERY_S
        for key in [key for key, expiry in self._expiries.items() if expiry <= now]:
            self._expiries.pop(key, None)
            self._counts.pop(key, None)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the key's window, opening a window of ``expiry`` seconds if
        none is open."""
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            if self._expiries.get(key, 0.0) <= now:
                self._counts[key], self._expiries[key] = 0, now + expiry
            count = self._counts[key] + amount
            self._counts[key] = count
            return count

    def get(self, key: str) -> int:
        with self._lock:
            if self._expiries.get(key, 0.0) <= time.time():
                return 0
            return self._counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        with self._lock:
            return self._expiries.get(key, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            self._expiries.clear()
            return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)
            self._expiries.pop(key, None)


def storage_uri(configured: str) -> str:
    """``memory://`` means these counters; any other storage (``redis://``) as configured."""
    return f"{SCHEME}://" if configured.rstrip("/") == "memory:" else configured
