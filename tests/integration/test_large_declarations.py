"""A declaration with many goods items is stored field for field as it was declared, on each
backend: on PostgreSQL, batches of ``COPY_FROM_ROWS`` rows or more go through COPY instead of
executemany (``app/db/bulk.py``), and nothing may be lost or altered on the way, nor may a
failure look different from executemany's."""
from __future__ import annotations

from copy import deepcopy
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.db import models
from app.db.bulk import COPY_FROM_ROWS, insert_rows
from app.db.session import make_engine
from app.intake.mapping import MAPPERS, NS_V1
from app.platform.xml import parse_untrusted
from tests.conftest import TRADER_KEY, auth, sample
from tests.factories import declaration_xml

ITEM_TAG = f"{{{NS_V1}}}GovernmentAgencyGoodsItem"
SOURCES = ("valid/import-liquor.xml", "valid/import-tobacco.xml", "valid/import-with-licence.xml",
           "valid/import-5-items.xml")


def _mixed_goods(count: int) -> str:
    """``count`` goods items cycled from samples with dutiable details and licences; every third packed."""
    templates = [item for name in SOURCES for item in etree.fromstring(sample(name)).iter(ITEM_TAG)]
    goods = []
    for sequence in range(1, count + 1):
        item = deepcopy(templates[(sequence - 1) % len(templates)])
        item.find(f"{{{NS_V1}}}SequenceNumeric").text = str(sequence)
        if sequence % 3 == 0 and item.find(f"{{{NS_V1}}}Packaging") is None:
            item.find(f"{{{NS_V1}}}Origin").addnext(etree.fromstring(
                f'<Packaging xmlns="{NS_V1}"><TypeCode>CT</TypeCode><QuantityQuantity>{sequence}</QuantityQuantity>'
                "</Packaging>"))
        goods.append(etree.tostring(item, encoding="unicode"))
    return "".join(goods)


def test_every_goods_item_of_a_large_declaration_is_stored_as_declared(clean_app: Flask,
                                                                          client: FlaskClient) -> None:
    count = COPY_FROM_ROWS + 10
    body = declaration_xml(lrn="LARGE-MIXED-1", goods=_mixed_goods(count))
    answer = client.post("/api/v1/declarations", data=body, headers=auth(TRADER_KEY, "application/json"))
    assert answer.status_code == 202, answer.text
    reference = answer.get_json()["declaration_id"]
    declared = MAPPERS[NS_V1](parse_untrusted(body)).goods_items
    assert any(item.documents for item in declared) and any(item.alcohol_strength for item in declared)
    assert any(item.stick_count for item in declared) and any(item.package_count for item in declared)

    with clean_app.extensions["csw"].sessions() as session:
        stored = session.scalars(select(models.GoodsItem).where(models.GoodsItem.declaration_id == reference)
                                 .order_by(models.GoodsItem.sequence)).all()
    assert len(stored) == count
    for row, item in zip(stored, declared, strict=True):
        assert (row.sequence, row.description, row.hs_code, row.origin_country) == (
            item.sequence, item.description, item.hs_code, item.origin_country)
        assert (row.quantity, row.quantity_unit, row.net_mass_kg, row.gross_mass_kg) == (
            item.quantity, item.quantity_unit, item.net_mass, item.gross_mass)
        assert (row.value, row.currency, row.alcohol_strength, row.volume_litres, row.stick_count) == (
            item.value, item.currency, item.alcohol_strength, item.volume_litres, item.stick_count)
        assert (row.length_mm, row.package_type, row.package_count) == (
            item.length_mm, item.package_type, item.package_count)
        assert row.documents == ([{"type_code": d.type_code, "id": d.identifier} for d in item.documents]
                                 or None), row.sequence


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # only PostgreSQL copies
def test_a_connection_lost_during_copy_fails_as_the_database_being_unavailable(database_url: str) -> None:
    """The API answers a lost database 503 DATABASE_UNAVAILABLE with Retry-After (its handler
    for SQLAlchemy's OperationalError); COPY talks to psycopg directly, so its errors must come
    out the same way, with the connection invalidated rather than handed back to the pool."""
    engine = make_engine(database_url)
    rows = [{"declaration_id": "HK26D0000000000", "sequence": n, "description": "x", "hs_code": "85171300",
             "origin_country": "CN", "quantity": Decimal(1), "quantity_unit": "PCE", "net_mass_kg": Decimal(1),
             "gross_mass_kg": Decimal(1), "value": Decimal(1), "currency": "HKD"} for n in range(1, COPY_FROM_ROWS + 1)]
    try:
        with engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            with engine.connect() as other:
                other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            with pytest.raises(OperationalError) as lost:
                insert_rows(connection, models.GoodsItem.__table__, rows)
            assert lost.value.connection_invalidated and connection.invalidated
    finally:
        engine.dispose()
