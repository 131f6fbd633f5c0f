"""WCO Data Model particulars: what a v2 or DEC-DMS declaration says beyond v1 (trade terms,
invoice, exchange rate, routing, transport means, offices) and per goods item (procedure,
valuation method, marks and numbers); transport equipment that is not an ISO container

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 09:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('declarations') as batch:
        batch.add_column(sa.Column('particulars', sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table('goods_items') as batch:
        batch.add_column(sa.Column('particulars', sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table('transport_equipment') as batch:
        batch.alter_column('container_id', existing_type=sa.String(length=11), type_=sa.String(length=17),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('transport_equipment') as batch:
        batch.alter_column('container_id', existing_type=sa.String(length=17), type_=sa.String(length=11),
                           existing_nullable=False)
    with op.batch_alter_table('goods_items') as batch:
        batch.drop_column('particulars')
    with op.batch_alter_table('declarations') as batch:
        batch.drop_column('particulars')
