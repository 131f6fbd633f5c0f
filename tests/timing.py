"""How long the service worked on one request, measured so that a loaded machine does not
make a fast answer look slow: the CPU time of the thread that served it (the Flask test
client serves in the caller's thread), with a generous wall-clock bound that still catches a
hang (a wait on a lock or the network costs no CPU). The garbage collector is held off while
the call runs: late in a run a collection of the whole suite's heap takes about a second of
CPU, may fall in any call, and is not that call's cost."""
from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

HANG_SECONDS = 10.0


@contextmanager
def own_cpu() -> Iterator[Callable[[], float]]:
    """A clock of this thread's CPU seconds since the block began, the garbage collector held
    off inside the block (see the module's docstring)."""
    enabled = gc.isenabled()
    gc.disable()
    started = time.thread_time()
    try:
        yield lambda: time.thread_time() - started
    finally:
        if enabled:
            gc.enable()


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """``call()``'s result and the CPU seconds it took; fails if it took over ``HANG_SECONDS``."""
    wall = time.perf_counter()
    with own_cpu() as spent:
        result = call()
        cpu = spent()
    wall = time.perf_counter() - wall
    assert wall < HANG_SECONDS, f"no answer within {HANG_SECONDS:.0f} s (hang?)"
    return result, cpu
