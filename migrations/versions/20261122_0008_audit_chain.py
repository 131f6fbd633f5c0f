"""audit chain: tamper-evident hash chain over the event tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 03:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_chain',
    sa.Column('sequence', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('table_name', sa.String(length=64), nullable=False),
    sa.Column('row_id', sa.Integer(), nullable=False),
    sa.Column('row_digest', sa.String(length=64), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sequence', name=op.f('pk_audit_chain')),
    sa.UniqueConstraint('table_name', 'row_id', name=op.f('uq_audit_chain_table_name'))
    )


def downgrade() -> None:
    op.drop_table('audit_chain')
