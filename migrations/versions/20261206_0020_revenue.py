"""revenue: duty demands, payments with receipts, refunds, securities (deferment accounts and
guarantees) and their events; a declaration's release that waits for its duty

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 12:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('securities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=False),
    sa.Column('limit_amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('balance', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_securities_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_securities')),
    sa.UniqueConstraint('party_id', 'kind', 'reference', name='uq_securities_party_kind_reference')
    )
    with op.batch_alter_table('securities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_securities_party_id'), ['party_id'], unique=False)

    op.create_table('duty_demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('declarant_party_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('refunded', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('commodities', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('security_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('secured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declarant_party_id'], ['parties.id'], name=op.f('fk_duty_demands_declarant_party_id_parties')),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_duty_demands_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['security_id'], ['securities.id'], name=op.f('fk_duty_demands_security_id_securities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_demands')),
    sa.UniqueConstraint('reference', name=op.f('uq_duty_demands_reference'))
    )
    with op.batch_alter_table('duty_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_demands_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index('ix_duty_demands_party_state', ['declarant_party_id', 'state'], unique=False)
        batch_op.create_index('ix_duty_demands_state_raised', ['state', 'raised_at'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_number', sa.String(length=16), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('payment_reference', sa.String(length=35), nullable=False),
    sa.Column('gateway', sa.String(length=20), nullable=False),
    sa.Column('gateway_reference', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_payments_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['demand_id'], ['duty_demands.id'], name=op.f('fk_payments_demand_id_duty_demands')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_payments_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('demand_id', name=op.f('uq_payments_demand_id')),
    sa.UniqueConstraint('receipt_number', name=op.f('uq_payments_receipt_number'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index('ix_payments_received', ['received_at'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('commodities', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_refunds_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['demand_id'], ['duty_demands.id'], name=op.f('fk_refunds_demand_id_duty_demands')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_refunds_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('reference', name=op.f('uq_refunds_reference'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refunds_demand_id'), ['demand_id'], unique=False)

    op.create_table('revenue_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=True),
    sa.Column('demand_id', sa.Integer(), nullable=True),
    sa.Column('security_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_revenue_events_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['demand_id'], ['duty_demands.id'], name=op.f('fk_revenue_events_demand_id_duty_demands')),
    sa.ForeignKeyConstraint(['security_id'], ['securities.id'], name=op.f('fk_revenue_events_security_id_securities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revenue_events'))
    )
    with op.batch_alter_table('revenue_events', schema=None) as batch_op:
        batch_op.create_index('ix_revenue_events_declaration', ['declaration_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revenue_events_demand_id'), ['demand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_revenue_events_security_id'), ['security_id'], unique=False)

    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_on_settlement', sa.Boolean(), server_default=sa.text('false'), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_column('release_on_settlement')

    with op.batch_alter_table('revenue_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revenue_events_security_id'))
        batch_op.drop_index(batch_op.f('ix_revenue_events_demand_id'))
        batch_op.drop_index('ix_revenue_events_declaration')

    op.drop_table('revenue_events')
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_demand_id'))
        batch_op.drop_index(batch_op.f('ix_refunds_declaration_id'))
        batch_op.drop_index('ix_refunds_created')

    op.drop_table('refunds')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_received')
        batch_op.drop_index(batch_op.f('ix_payments_declaration_id'))

    op.drop_table('payments')
    with op.batch_alter_table('duty_demands', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_demands_state_raised')
        batch_op.drop_index('ix_duty_demands_party_state')
        batch_op.drop_index(batch_op.f('ix_duty_demands_declaration_id'))

    op.drop_table('duty_demands')
    with op.batch_alter_table('securities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_securities_party_id'))

    op.drop_table('securities')
