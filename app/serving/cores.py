"""Each gunicorn worker of ``csw serve`` on a core of its own (``CSW_PIN_WORKERS``, on by default).

Why: a worker runs its Python on one thread at a time (the interpreter lock), handed between its
request threads at every wait (a reply from PostgreSQL, a commit, the next request). With its
threads free to run on any core, the kernel wakes the thread taking the lock on the core it last
ran on, often busy with the other worker, while the core just left sits idle: served on
PostgreSQL at 16 connections the machine stood 11-13 % idle with the threads waiting to run on
the other core nearly all of that time (``perf`` scheduler trace, bench/RESULTS.md thirteenth
session). A worker whose threads share one core hands its lock over on that core. Measured in
alternated turns on 2 cores: 400-456 declarations/s against 321-335/s, 2-3 % idle against
11-13 %, and 3.5-4.0 ms of the workers' CPU a declaration against 4.2-4.5 ms (issue 26's durable
ceiling, served by the same worker, gains as much). Only the workers
are pinned: the database's processes and everything else still run where the kernel puts them.

A worker takes the allowed core that the fewest of its live siblings hold, counting from its age
(gunicorn's spawn order), so workers starting together take different cores without seeing each
other's choice, and a worker started in place of one that died takes the core it left free."""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Collection, Iterable


def core_for(age: int, allowed: Collection[int], held: Iterable[int]) -> int:
    """The core for a worker of ``age``: of the ``allowed`` cores, the one the fewest siblings
    hold (``held``: the core of each pinned sibling), the first such counting from ``age``."""
    cores = sorted(allowed)
    start = age % len(cores)
    counts = Counter(core for core in held if core in allowed)
    return min(cores[start:] + cores[:start], key=lambda core: counts[core])


def pin_worker(age: int, master: int) -> int | None:
    """Pin the calling worker (its threads yet to start inherit it) to ``core_for`` its age and
    its siblings' cores; the core, or None where there is nothing to choose (one allowed core)
    or no way to pin (not Linux)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return None
        core = core_for(age, allowed, _siblings_cores(master, os.getpid()))
        os.sched_setaffinity(0, {core})
    except OSError:  # a sandbox refusing it: the worker serves unpinned rather than not at all
        return None
    return core


def _siblings_cores(master: int, own: int) -> list[int]:
    """The core of each of ``master``'s other children pinned to one core."""
    held: list[int] = []
    for pid in _children(master):
        if pid == own:
            continue
        try:
            cores = os.sched_getaffinity(pid)
        except OSError:  # gone meanwhile
            continue
        if len(cores) == 1:
            held.extend(cores)
    return held


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc)."""
    children: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 1 and fields[1] == str(parent):
            children.append(int(entry.name))
    return children
