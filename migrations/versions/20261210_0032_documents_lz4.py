"""PostgreSQL: received documents and outbound messages compressed with LZ4, not pglz

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-10 10:00:00

Why: every declaration, cargo report and manifest is kept verbatim, and a body of more than
about 2 KB is compressed as it is stored. With PostgreSQL's default (pglz) that compression was
a twentieth of the server's CPU for each declaration lodged (bench/RESULTS.md, eleventh
session); LZ4 takes a fraction of that CPU, for a stored body a tenth larger (the
5-item sample: 1,683 bytes against pglz's 1,536, of 5,095). Rows already stored
keep their compression (PostgreSQL reads both); new rows take LZ4. Nothing changes on SQLite,
or on a server built without LZ4.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables whose ``body`` holds a whole document or message.
BODIES = ("declaration_documents", "cargo_documents", "manifest_documents", "outbox_messages")


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    offered = bind.execute(text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return "lz4" in (offered or [])


def _compress_with(method: str) -> None:
    for table in BODIES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION {method}")


def upgrade() -> None:
    if _lz4_available():
        _compress_with("lz4")


def downgrade() -> None:
    if _lz4_available():
        _compress_with("pglz")
