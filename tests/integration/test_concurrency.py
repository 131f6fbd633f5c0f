"""Races with real threads: exactly one wins, the others get a clear answer, nothing is
half-written. Runs on SQLite and PostgreSQL like every integration test."""
from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from app.db import models
from tests.conftest import TRADER_KEY, auth
from tests.factories import declaration_xml

API = "/api/v1/declarations"
RACERS = 8


def race(app: Flask, attempt: Callable[[int], tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Run ``attempt`` in RACERS threads released together; return their (status, body)."""
    barrier = threading.Barrier(RACERS)
    results: list[tuple[int, dict] | None] = [None] * RACERS

    def run(n: int) -> None:
        barrier.wait(timeout=10)
        results[n] = attempt(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def post(app: Flask, path: str, body: bytes, content_type: str = "application/xml") -> tuple[int, dict]:
    headers = {**auth(accept="application/json"), "Content-Type": content_type}
    response = app.test_client().post(path, data=body, headers=headers)
    return response.status_code, response.get_json()


def count(app: Flask, model: type) -> int:
    with app.extensions["csw"].sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_same_document_sent_at_once_is_stored_once(clean_app: Flask) -> None:
    body = declaration_xml(lrn="LRN-RACE-SAME", items=3)
    results = race(clean_app, lambda n: post(clean_app, API, body))
    assert {status for status, _ in results} == {202}
    assert len({answer["declaration_id"] for _, answer in results}) == 1
    assert sum(1 for _, answer in results if not answer["replay"]) == 1
    assert count(clean_app, models.Declaration) == 1
    assert count(clean_app, models.DeclarationEvent) == 1
    assert count(clean_app, models.GoodsItem) == 3


def test_different_documents_with_one_lrn_at_once_one_wins_the_rest_conflict(clean_app: Flask) -> None:
    results = race(clean_app, lambda n: post(clean_app, API, declaration_xml(lrn="LRN-RACE-DIFF", items=n + 1)))
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({202: 1, 409: RACERS - 1})
    winner = next(answer["declaration_id"] for status, answer in results if status == 202)
    assert all(answer["existing_declaration_id"] == winner for status, answer in results if status == 409)
    assert count(clean_app, models.Declaration) == 1
    assert count(clean_app, models.DeclarationDocument) == 1


def test_racing_cancellations_cancel_once(clean_app: Flask) -> None:
    reference = post(clean_app, API, declaration_xml(lrn="LRN-RACE-CANCEL"))[1]["declaration_id"]
    reason = json.dumps({"reason": "order withdrawn"}).encode()
    results = race(clean_app, lambda n: post(clean_app, f"{API}/{reference}/cancellation", reason,
                                             "application/json"))
    statuses = Counter(status for status, _ in results)
    assert statuses == Counter({200: 1, 409: RACERS - 1})
    assert {answer["code"] for status, answer in results if status == 409} == {"CANCELLATION_NOT_ALLOWED"}
    with clean_app.extensions["csw"].sessions() as session:
        kinds = session.scalars(select(models.DeclarationEvent.kind)
                                .where(models.DeclarationEvent.declaration_id == reference)).all()
    assert sorted(kinds) == ["cancelled", "submitted"]


def test_racing_amendments_each_make_one_consistent_version(clean_app: Flask) -> None:
    reference = post(clean_app, API, declaration_xml(lrn="LRN-RACE-AMEND"))[1]["declaration_id"]
    results = race(clean_app, lambda n: post(clean_app, f"{API}/{reference}/amendments",
                                             declaration_xml(lrn="LRN-RACE-AMEND", items=n + 2, function_code="13")))
    assert {status for status, _ in results} == {202}
    assert sorted(answer["version"] for _, answer in results) == list(range(2, RACERS + 2))
    status = clean_app.test_client().get(f"{API}/{reference}", headers=auth(TRADER_KEY, "application/json")).get_json()
    assert status["version"] == RACERS + 1
    with clean_app.extensions["csw"].sessions() as session:
        items = session.scalar(select(func.count()).select_from(models.GoodsItem)
                               .where(models.GoodsItem.declaration_id == reference))
        documents = session.scalar(select(func.count()).select_from(models.DeclarationDocument)
                                   .where(models.DeclarationDocument.declaration_id == reference))
    assert items == status["goods_item_count"]
    assert documents == RACERS + 1
