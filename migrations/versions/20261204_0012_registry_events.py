"""registry events: e-lock scheme registrations and routing subscriber changes, with who, when and why

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table('transit_registry_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_kind', sa.String(length=10), nullable=False),
    sa.Column('subject_id', sa.String(length=35), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transit_registry_events'))
    )
    with op.batch_alter_table('transit_registry_events') as batch:
        batch.create_index('ix_transit_registry_events_subject', ['subject_kind', 'subject_id', 'id'], unique=False)
    op.create_table('subscriber_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'],
                            name=op.f('fk_subscriber_events_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_events'))
    )
    with op.batch_alter_table('subscriber_events') as batch:
        batch.create_index(batch.f('ix_subscriber_events_subscriber_id'), ['subscriber_id'], unique=False)

def downgrade() -> None:
    with op.batch_alter_table('subscriber_events') as batch:
        batch.drop_index(batch.f('ix_subscriber_events_subscriber_id'))
    op.drop_table('subscriber_events')
    with op.batch_alter_table('transit_registry_events') as batch:
        batch.drop_index('ix_transit_registry_events_subject')
    op.drop_table('transit_registry_events')
