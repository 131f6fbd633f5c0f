"""The audit chain's hashes: stable for equal content, different for any change."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from app.audit.chain import GENESIS, link_hash, row_digest

ROW = {"id": 7, "kind": "submitted", "occurred_at": datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc),
       "amount": Decimal("12.50"), "note": None}


def test_row_digest_ignores_key_order_and_decimal_trailing_zeros() -> None:
    reordered = dict(reversed(list(ROW.items())))
    assert row_digest(reordered) == row_digest(ROW)
    assert row_digest({**ROW, "amount": Decimal("12.5")}) == row_digest(ROW)


def test_any_changed_column_changes_the_digest() -> None:
    for column, value in [("kind", "amended"), ("note", ""), ("id", 8),
                          ("occurred_at", datetime(2026, 11, 22, 3, 0, 1, tzinfo=timezone.utc))]:
        assert row_digest({**ROW, column: value}) != row_digest(ROW), column


def test_a_link_binds_its_predecessor_position_table_and_row() -> None:
    digest = row_digest(ROW)
    first = link_hash(GENESIS, 1, "declaration_events", 7, digest)
    assert first != link_hash("f" * 64, 1, "declaration_events", 7, digest)
    assert first != link_hash(GENESIS, 2, "declaration_events", 7, digest)
    assert first != link_hash(GENESIS, 1, "aeo_status_events", 7, digest)
    assert first != link_hash(GENESIS, 1, "declaration_events", 8, digest)
    assert len(first) == 64
