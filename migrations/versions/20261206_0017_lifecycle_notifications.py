"""lifecycle notifications: a feed per party (the pull queue's rows), a cursor per API client,
callbacks registered by API clients (subscribers with a client id), callback URLs up to 2,000
characters

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-06 06:34:40.343659
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('lifecycle_notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('lrn', sa.String(length=35), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_lifecycle_notifications_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_notifications')),
    sa.UniqueConstraint('event_id', name=op.f('uq_lifecycle_notifications_event_id'))
    )
    with op.batch_alter_table('lifecycle_notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lifecycle_notifications_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lifecycle_notifications_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_lifecycle_notifications_party', ['party_id', 'id'], unique=False)

    op.create_table('notification_cursors',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('acknowledged_through', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['api_clients.id'], name=op.f('fk_notification_cursors_client_id_api_clients')),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_notification_cursors'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.Integer(), nullable=True))
        batch_op.alter_column('url',
               existing_type=sa.VARCHAR(length=500),
               type_=sa.String(length=2000),
               existing_nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_subscribers_client_id'), ['client_id'])
        batch_op.create_foreign_key(batch_op.f('fk_subscribers_client_id_api_clients'), 'api_clients', ['client_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_subscribers_client_id_api_clients'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_subscribers_client_id'), type_='unique')
        batch_op.alter_column('url',
               existing_type=sa.String(length=2000),
               type_=sa.VARCHAR(length=500),
               existing_nullable=True)
        batch_op.drop_column('client_id')

    op.drop_table('notification_cursors')
    with op.batch_alter_table('lifecycle_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_lifecycle_notifications_party')
        batch_op.drop_index(batch_op.f('ix_lifecycle_notifications_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_lifecycle_notifications_declaration_id'))

    op.drop_table('lifecycle_notifications')
