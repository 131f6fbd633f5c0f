"""cases for cargo selected before arrival: the consignment a case is about

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-09 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('cargo_ref', sa.String(length=80), nullable=True))
        batch.create_index('ix_cases_cargo_ref_active', ['cargo_ref', 'active'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_index('ix_cases_cargo_ref_active')
        batch.drop_column('cargo_ref')
