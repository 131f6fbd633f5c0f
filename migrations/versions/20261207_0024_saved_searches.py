"""saved searches: an officer's named filters of the queue and of the declaration search

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-07 09:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table('saved_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_searches_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    sa.UniqueConstraint('user_id', 'page', 'name', name='uq_saved_searches_user_page_name')
    )
    with op.batch_alter_table('saved_searches') as batch:
        batch.create_index(batch.f('ix_saved_searches_user_id'), ['user_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('saved_searches') as batch:
        batch.drop_index(batch.f('ix_saved_searches_user_id'))
    op.drop_table('saved_searches')
