"""Which core a worker of ``csw serve`` is pinned to (``app.serving.cores.core_for``)."""
from __future__ import annotations

from app.serving.cores import core_for


def test_workers_starting_together_take_different_cores_without_seeing_each_other() -> None:
    assert {core_for(age, {0, 1}, []) for age in (1, 2)} == {0, 1}
    assert len({core_for(age, {0, 1, 2, 3}, []) for age in (1, 2, 3, 4)}) == 4


def test_a_worker_started_in_place_of_one_that_died_takes_the_core_it_left() -> None:
    survivor = core_for(1, {0, 1}, [])
    assert core_for(3, {0, 1}, [survivor]) != survivor
    assert core_for(4, {0, 1}, [survivor]) != survivor


def test_more_workers_than_cores_share_them_evenly() -> None:
    held: list[int] = []
    for age in range(1, 7):
        held.append(core_for(age, {0, 1}, held))
    assert sorted(held) == [0, 0, 0, 1, 1, 1]


def test_only_the_cores_the_service_may_use_are_taken() -> None:
    assert core_for(1, {2, 5}, [0, 1, 3]) in {2, 5}
    assert core_for(2, {2, 5}, [2]) == 5
