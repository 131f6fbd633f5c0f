"""A small per-process cache with a time to live, for facts the hot path reads on every
request but that change rarely (API keys, AEO standings). Workers do not share it, so a
change reaches every worker within ``ttl`` seconds; ``ttl`` 0 caches nothing."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[K, tuple[V, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) for a fresh entry (the value may be None: "known not to exist")."""
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self._clock():
            return False, None
        return True, entry[0]

    def put(self, key: K, value: V) -> None:
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) > 100_000:
                    self._entries.clear()
                self._entries[key] = (value, self._clock() + self.ttl)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
