"""e-lock transit: companies, vehicles, e-locks, journeys, telemetry, alerts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('elock_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('elock_id', sa.String(length=35), nullable=False),
    sa.Column('journey_id', sa.String(length=16), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('longitude', sa.Float(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=False),
    sa.Column('inside_corridor', sa.Boolean(), nullable=True),
    sa.Column('point', sa.String(length=5), nullable=True),
    sa.Column('disposition', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elock_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_elock_events_event_id'))
    )
    with op.batch_alter_table('elock_events', schema=None) as batch_op:
        batch_op.create_index('ix_elock_events_journey_time', ['journey_id', 'occurred_at'], unique=False)

    op.create_table('elocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('elock_id', sa.String(length=35), nullable=False),
    sa.Column('supplier', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('journey_id', sa.String(length=16), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elocks')),
    sa.UniqueConstraint('elock_id', name=op.f('uq_elocks_elock_id'))
    )
    op.create_table('transit_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('br_number', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transit_companies')),
    sa.UniqueConstraint('br_number', name=op.f('uq_transit_companies_br_number'))
    )
    op.create_table('transit_vehicles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_mark', sa.String(length=8), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['transit_companies.id'], name=op.f('fk_transit_vehicles_company_id_transit_companies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transit_vehicles')),
    sa.UniqueConstraint('registration_mark', name=op.f('uq_transit_vehicles_registration_mark'))
    )
    with op.batch_alter_table('transit_vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transit_vehicles_company_id'), ['company_id'], unique=False)

    op.create_table('journeys',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('elock_id', sa.String(length=35), nullable=False),
    sa.Column('vehicle_mark', sa.String(length=8), nullable=True),
    sa.Column('container_id', sa.String(length=11), nullable=True),
    sa.Column('route_code', sa.String(length=30), nullable=False),
    sa.Column('origin', sa.String(length=5), nullable=False),
    sa.Column('control_point', sa.String(length=5), nullable=False),
    sa.Column('destination', sa.String(length=5), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('sealed_by', sa.String(length=10), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alert_count', sa.Integer(), nullable=False),
    sa.Column('progress', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_journeys_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journeys'))
    )
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journeys_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_journeys_elock_id'), ['elock_id'], unique=False)
        batch_op.create_index('ix_journeys_state_updated', ['state', 'updated_at'], unique=False)

    op.create_table('journey_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_journey_alerts_journey_id_journeys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_alerts')),
    sa.UniqueConstraint('journey_id', 'kind', name='uq_journey_alerts_journey_kind')
    )
    with op.batch_alter_table('journey_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_journey_alerts_declaration_id'), ['declaration_id'], unique=False)

    op.create_table('journey_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('journey_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state_from', sa.String(length=12), nullable=True),
    sa.Column('state_to', sa.String(length=12), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('telemetry_event_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['journey_id'], ['journeys.id'], name=op.f('fk_journey_events_journey_id_journeys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_events'))
    )
    with op.batch_alter_table('journey_events', schema=None) as batch_op:
        batch_op.create_index('ix_journey_events_journey', ['journey_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('journey_events', schema=None) as batch_op:
        batch_op.drop_index('ix_journey_events_journey')

    op.drop_table('journey_events')
    with op.batch_alter_table('journey_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_alerts_declaration_id'))

    op.drop_table('journey_alerts')
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.drop_index('ix_journeys_state_updated')
        batch_op.drop_index(batch_op.f('ix_journeys_elock_id'))
        batch_op.drop_index(batch_op.f('ix_journeys_declaration_id'))

    op.drop_table('journeys')
    with op.batch_alter_table('transit_vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transit_vehicles_company_id'))

    op.drop_table('transit_vehicles')
    op.drop_table('transit_companies')
    op.drop_table('elocks')
    with op.batch_alter_table('elock_events', schema=None) as batch_op:
        batch_op.drop_index('ix_elock_events_journey_time')

    op.drop_table('elock_events')
