"""How long the service worked on one request, measured so that a loaded machine does not
make a fast answer look slow: the CPU time of the thread that served it (the Flask test
client serves in the caller's thread), with a generous wall-clock bound that still catches a
hang (a wait on a lock or the network costs no CPU)."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

HANG_SECONDS = 10.0


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """``call()``'s result and the CPU seconds it took; fails if it took over ``HANG_SECONDS``."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = call()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    assert wall < HANG_SECONDS, f"no answer within {HANG_SECONDS:.0f} s (hang?)"
    return result, cpu
