"""cargo: advance cargo information for road cargo (ROCARS), its documents and its changes

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 07:22:22.615109
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cargo_records',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('submitter_party_id', sa.Integer(), nullable=False),
    sa.Column('lrn', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=2), nullable=False),
    sa.Column('control_point', sa.String(length=5), nullable=False),
    sa.Column('expected_crossing_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consignor', sa.JSON(), nullable=False),
    sa.Column('consignee', sa.JSON(), nullable=False),
    sa.Column('package_count', sa.Integer(), nullable=False),
    sa.Column('package_type', sa.String(length=2), nullable=False),
    sa.Column('marks', sa.String(length=70), nullable=True),
    sa.Column('goods_description', sa.Text(), nullable=False),
    sa.Column('gross_mass_kg', sa.Numeric(precision=15, scale=3), nullable=True),
    sa.Column('hs_code', sa.String(length=8), nullable=True),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('risk_score', sa.Integer(), nullable=True),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submitter_party_id'], ['parties.id'], name=op.f('fk_cargo_records_submitter_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_records')),
    sa.UniqueConstraint('submitter_party_id', 'lrn', name='uq_cargo_records_submitter_lrn')
    )
    with op.batch_alter_table('cargo_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cargo_records_expected_crossing_at'), ['expected_crossing_at'], unique=False)
        batch_op.create_index('ix_cargo_records_submitter_updated', ['submitter_party_id', 'updated_at'], unique=False)

    op.create_table('cargo_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cargo_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['cargo_id'], ['cargo_records.id'], name=op.f('fk_cargo_documents_cargo_id_cargo_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_documents')),
    sa.UniqueConstraint('cargo_id', 'version', name='uq_cargo_documents_version')
    )
    op.create_table('cargo_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cargo_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status_to', sa.String(length=12), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cargo_id'], ['cargo_records.id'], name=op.f('fk_cargo_events_cargo_id_cargo_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_events'))
    )
    with op.batch_alter_table('cargo_events', schema=None) as batch_op:
        batch_op.create_index('ix_cargo_events_cargo', ['cargo_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cargo_events', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_events_cargo')

    op.drop_table('cargo_events')
    op.drop_table('cargo_documents')
    with op.batch_alter_table('cargo_records', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_records_submitter_updated')
        batch_op.drop_index(batch_op.f('ix_cargo_records_expected_crossing_at'))

    op.drop_table('cargo_records')
