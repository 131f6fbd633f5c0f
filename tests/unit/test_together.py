"""Group commit (``app.platform.together``) without a database: who stores, who waits, and that
every request hears its own answer, or its group's failure, only once its group was stored."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from app.platform.together import Together


def _wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def _first_alone_then(together: Together[int, object], post: Callable[[int], None], storing: threading.Event,
                      hold: threading.Event, others: Sequence[int]) -> None:
    """Item 0 stores alone (its store sets ``storing`` and waits for ``hold``) while ``others``
    queue behind it, in this order; then every post finishes."""
    leader = threading.Thread(target=post, args=(0,))
    leader.start()
    assert storing.wait(5)
    queued = []
    for n, item in enumerate(others, start=1):
        queued.append(threading.Thread(target=post, args=(item,)))
        queued[-1].start()
        _wait_for(lambda n=n: together.waiting == n)
    hold.set()
    for thread in [leader, *queued]:
        thread.join(5)


def test_a_store_with_nobody_storing_is_a_group_of_one_at_once() -> None:
    together: Together[int, str] = Together()
    groups: list[list[int]] = []

    def store(group: Sequence[int]) -> list[str]:
        groups.append(list(group))
        return [f"stored {item}" for item in group]

    assert together.store(7, store) == "stored 7"
    assert together.store(8, store) == "stored 8"
    assert groups == [[7], [8]]


def test_stores_arriving_while_one_is_stored_are_stored_next_as_one_group_each_with_its_answer() -> None:
    together: Together[int, str] = Together()
    first_storing, release_first = threading.Event(), threading.Event()
    groups: list[list[int]] = []
    answers: dict[int, str] = {}

    def store(group: Sequence[int]) -> list[str]:
        groups.append(list(group))
        if group[0] == 0:
            first_storing.set()
            release_first.wait(5)
        return [f"stored {item} in a group of {len(group)}" for item in group]

    def post(item: int) -> None:
        answers[item] = together.store(item, store)

    leader = threading.Thread(target=post, args=(0,))
    leader.start()
    assert first_storing.wait(5)
    others = [threading.Thread(target=post, args=(n,)) for n in (1, 2, 3)]
    for thread in others:
        thread.start()
    _wait_for(lambda: together.waiting == 3)
    assert answers == {}  # nothing answered while the first group is still being stored
    release_first.set()
    for thread in [leader, *others]:
        thread.join(5)
    assert groups[0] == [0] and sorted(groups[1]) == [1, 2, 3] and len(groups) == 2
    assert answers == {0: "stored 0 in a group of 1", 1: "stored 1 in a group of 3",
                       2: "stored 2 in a group of 3", 3: "stored 3 in a group of 3"}


def test_an_item_refused_in_its_group_is_raised_to_its_own_request_only() -> None:
    together: Together[int, str] = Together()
    hold, storing = threading.Event(), threading.Event()
    outcomes: dict[int, str] = {}

    def store(group: Sequence[int]) -> list[str | BaseException]:
        if group[0] == 0:
            storing.set()
            hold.wait(5)
        return [ValueError(f"item {item} refused") if item == 2 else f"stored {item}" for item in group]

    def post(item: int) -> None:
        try:
            outcomes[item] = together.store(item, store)
        except ValueError as refused:
            outcomes[item] = f"refused: {refused}"

    _first_alone_then(together, post, storing, hold, (1, 2))
    assert outcomes == {0: "stored 0", 1: "stored 1", 2: "refused: item 2 refused"}


def test_a_group_whose_store_fails_fails_every_request_of_it_and_the_next_group_stores() -> None:
    together: Together[int, str] = Together()
    hold, storing = threading.Event(), threading.Event()
    outcomes: dict[int, str] = {}

    def store(group: Sequence[int]) -> list[str]:
        if group[0] == 0:
            storing.set()
            hold.wait(5)
            return ["stored 0"]
        if 1 in group:
            raise RuntimeError("the database went away")
        return [f"stored {item}" for item in group]

    def post(item: int) -> None:
        try:
            outcomes[item] = together.store(item, store)
        except RuntimeError as failure:
            outcomes[item] = f"failed: {failure}"

    _first_alone_then(together, post, storing, hold, (1, 2))
    assert outcomes == {0: "stored 0", 1: "failed: the database went away", 2: "failed: the database went away"}
    assert together.store(3, store) == "stored 3"  # the lead was given back: the next store does not hang


def test_a_group_is_bounded_and_what_is_left_is_stored_by_the_next_leader() -> None:
    together: Together[int, int] = Together(largest=2)
    hold, storing = threading.Event(), threading.Event()
    groups: list[list[int]] = []

    def store(group: Sequence[int]) -> list[int]:
        groups.append(sorted(group))
        if group[0] == 0:
            storing.set()
            hold.wait(5)
        return list(group)

    _first_alone_then(together, lambda item: together.store(item, store), storing, hold,
                      (1, 2, 3, 4, 5))
    assert groups == [[0], [1, 2], [3, 4], [5]]


def test_a_store_that_answers_the_wrong_number_of_items_fails_its_group() -> None:
    together: Together[int, int] = Together()
    with pytest.raises(RuntimeError, match="a group of 1 got 0 answers"):
        together.store(1, lambda group: [])
