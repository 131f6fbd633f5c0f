"""user administration events: every account change with who, when and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 16:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table('user_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_events'))
    )
    with op.batch_alter_table('user_events') as batch:
        batch.create_index(batch.f('ix_user_events_user_id'), ['user_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('user_events') as batch:
        batch.drop_index(batch.f('ix_user_events_user_id'))
    op.drop_table('user_events')
