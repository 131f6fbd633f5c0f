"""routing: trips, consignments, subscribers, outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 02:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('transport', sa.String(length=8), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('exchange', sa.String(length=100), nullable=True),
    sa.Column('format', sa.String(length=4), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('next_probe_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=36), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_subscribers_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('name', name=op.f('uq_subscribers_name'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscribers_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscribers_role'), ['role'], unique=False)

    op.create_table('trips',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('carrier_party_id', sa.Integer(), nullable=False),
    sa.Column('vehicle_mark', sa.String(length=10), nullable=False),
    sa.Column('control_point', sa.String(length=5), nullable=False),
    sa.Column('boundary', sa.String(length=20), nullable=False),
    sa.Column('expected_crossing_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('selected', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('state_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carrier_party_id'], ['parties.id'], name=op.f('fk_trips_carrier_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trips'))
    )
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.create_index('ix_trips_carrier_created', ['carrier_party_id', 'created_at'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('message_type', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('routing_key', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_outbox_messages_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_messages_idempotency_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_subscriber_status', ['subscriber_id', 'status', 'id'], unique=False)

    op.create_table('trip_consignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trip_id', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('linked_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_trip_consignments_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_consignments_trip_id_trips')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_consignments')),
    sa.UniqueConstraint('declaration_id', name=op.f('uq_trip_consignments_declaration_id'))
    )
    with op.batch_alter_table('trip_consignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trip_consignments_trip_id'), ['trip_id'], unique=False)

    op.create_table('trip_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trip_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trip_id'], ['trips.id'], name=op.f('fk_trip_events_trip_id_trips')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_events'))
    )
    with op.batch_alter_table('trip_events', schema=None) as batch_op:
        batch_op.create_index('ix_trip_events_trip', ['trip_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trip_events', schema=None) as batch_op:
        batch_op.drop_index('ix_trip_events_trip')

    op.drop_table('trip_events')
    with op.batch_alter_table('trip_consignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trip_consignments_trip_id'))

    op.drop_table('trip_consignments')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_subscriber_status')
        batch_op.drop_index('ix_outbox_messages_status_created')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index('ix_trips_carrier_created')

    op.drop_table('trips')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_role'))
        batch_op.drop_index(batch_op.f('ix_subscribers_party_id'))

    op.drop_table('subscribers')
