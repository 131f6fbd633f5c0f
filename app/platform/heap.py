"""The garbage collector as a serving process wants it.

Why: CPython runs a young-generation collection every 700 net allocations, and now and then
a full one that walks every live object: the application's modules, schemas, code lists
and risk model (hundreds of thousands of objects that live as long as the process). A
declaration allocates tens of thousands of objects (parse tree, mapped declaration,
findings, rows), so a batch of 1,000 triggers thousands of collections, most of which find
nothing to free: the requests' objects are freed by reference counting. Once the application
is loaded, its objects are moved out of the collector's sight (``gc.freeze``) and the
young generation is collected less often; cycles are still collected.
"""
from __future__ import annotations

import gc

#: Net allocations between young collections (CPython's default: 700), and how many
#: collections of one generation trigger one of the next (default 10 and 10).
THRESHOLDS = (20_000, 20, 20)


def settle_after_start() -> None:
    """Call once the application is loaded (a server worker, a benchmark): collect what
    start-up left, then keep the survivors out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
