"""manifests: sea and air manifests, their consignment lines, documents and changes

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-07 09:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('manifests',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('submitter_party_id', sa.Integer(), nullable=False),
    sa.Column('lrn', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=2), nullable=False),
    sa.Column('mode', sa.String(length=1), nullable=False),
    sa.Column('control_point', sa.String(length=5), nullable=False),
    sa.Column('imo_number', sa.String(length=7), nullable=True),
    sa.Column('vessel_name', sa.String(length=70), nullable=True),
    sa.Column('voyage', sa.String(length=17), nullable=True),
    sa.Column('flight_number', sa.String(length=8), nullable=True),
    sa.Column('flight_date', sa.Date(), nullable=True),
    sa.Column('conveyance', sa.String(length=120), nullable=False),
    sa.Column('loading_location', sa.String(length=5), nullable=False),
    sa.Column('unloading_location', sa.String(length=5), nullable=False),
    sa.Column('boundary', sa.String(length=20), nullable=True),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submitter_party_id'], ['parties.id'], name=op.f('fk_manifests_submitter_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifests')),
    sa.UniqueConstraint('submitter_party_id', 'lrn', name='uq_manifests_submitter_lrn')
    )
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manifests_scheduled_at'), ['scheduled_at'], unique=False)
        batch_op.create_index('ix_manifests_submitter_updated', ['submitter_party_id', 'updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_manifests_updated_at'), ['updated_at'], unique=False)

    op.create_table('manifest_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_manifest_documents_manifest_id_manifests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_documents')),
    sa.UniqueConstraint('manifest_id', 'version', name='uq_manifest_documents_version')
    )
    op.create_table('manifest_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status_to', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_manifest_events_manifest_id_manifests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_events'))
    )
    with op.batch_alter_table('manifest_events', schema=None) as batch_op:
        batch_op.create_index('ix_manifest_events_manifest', ['manifest_id', 'id'], unique=False)

    op.create_table('manifest_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manifest_id', sa.String(length=16), nullable=False),
    sa.Column('document_kind', sa.String(length=3), nullable=False),
    sa.Column('document_number', sa.String(length=35), nullable=False),
    sa.Column('transhipment', sa.Boolean(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('consignor', sa.JSON(), nullable=False),
    sa.Column('consignee', sa.JSON(), nullable=False),
    sa.Column('package_count', sa.Integer(), nullable=False),
    sa.Column('package_type', sa.String(length=2), nullable=False),
    sa.Column('marks', sa.String(length=70), nullable=True),
    sa.Column('goods_description', sa.Text(), nullable=False),
    sa.Column('gross_mass_kg', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('hs_code', sa.String(length=8), nullable=True),
    sa.Column('origin_country', sa.String(length=2), nullable=True),
    sa.Column('equipment', sa.JSON(), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('risk_score', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['manifest_id'], ['manifests.id'], name=op.f('fk_manifest_lines_manifest_id_manifests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manifest_lines')),
    sa.UniqueConstraint('manifest_id', 'document_number', 'sequence', name='uq_manifest_lines_consignment')
    )
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.create_index('ix_manifest_lines_document', ['document_kind', 'document_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_manifest_lines_manifest_id'), ['manifest_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('manifest_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifest_lines_manifest_id'))
        batch_op.drop_index('ix_manifest_lines_document')

    op.drop_table('manifest_lines')
    with op.batch_alter_table('manifest_events', schema=None) as batch_op:
        batch_op.drop_index('ix_manifest_events_manifest')

    op.drop_table('manifest_events')
    op.drop_table('manifest_documents')
    with op.batch_alter_table('manifests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manifests_updated_at'))
        batch_op.drop_index('ix_manifests_submitter_updated')
        batch_op.drop_index(batch_op.f('ix_manifests_scheduled_at'))

    op.drop_table('manifests')
