"""declaration intake

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 00:02:54.106504
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parties')),
    sa.UniqueConstraint('identifier', name=op.f('uq_parties_identifier'))
    )
    op.create_table('api_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_api_clients_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_clients')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_clients_key_hash'))
    )
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_clients_party_id'), ['party_id'], unique=False)

    op.create_table('declarations',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('declarant_party_id', sa.Integer(), nullable=False),
    sa.Column('lrn', sa.String(length=35), nullable=False),
    sa.Column('ucr', sa.String(length=35), nullable=True),
    sa.Column('type_code', sa.String(length=2), nullable=False),
    sa.Column('form_code', sa.String(length=2), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('schema_namespace', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transport_mode', sa.String(length=1), nullable=False),
    sa.Column('conveyance_id', sa.String(length=35), nullable=True),
    sa.Column('control_point', sa.String(length=5), nullable=True),
    sa.Column('departure_location', sa.String(length=5), nullable=True),
    sa.Column('destination_location', sa.String(length=5), nullable=True),
    sa.Column('goods_item_count', sa.Integer(), nullable=False),
    sa.Column('original_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['declarant_party_id'], ['parties.id'], name=op.f('fk_declarations_declarant_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declarations')),
    sa.UniqueConstraint('declarant_party_id', 'lrn', name='uq_declarations_declarant_lrn')
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.create_index('ix_declarations_declarant_status_updated', ['declarant_party_id', 'status', 'updated_at'], unique=False)
        batch_op.create_index('ix_declarations_declarant_updated', ['declarant_party_id', 'updated_at'], unique=False)

    op.create_table('declaration_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('function_code', sa.String(length=2), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_documents_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_documents')),
    sa.UniqueConstraint('declaration_id', 'version', name='uq_declaration_documents_version')
    )
    op.create_table('declaration_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status_from', sa.String(length=20), nullable=True),
    sa.Column('status_to', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('conversation_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_events_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_events'))
    )
    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.create_index('ix_declaration_events_declaration', ['declaration_id', 'id'], unique=False)

    op.create_table('declaration_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('identifier', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('address_line', sa.String(length=140), nullable=True),
    sa.Column('city', sa.String(length=140), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_parties_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_parties'))
    )
    with op.batch_alter_table('declaration_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_parties_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_declaration_parties_identifier'), ['identifier'], unique=False)

    op.create_table('goods_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=512), nullable=False),
    sa.Column('hs_code', sa.String(length=8), nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=24, scale=6), nullable=False),
    sa.Column('quantity_unit', sa.String(length=3), nullable=False),
    sa.Column('net_mass_kg', sa.Numeric(precision=24, scale=6), nullable=False),
    sa.Column('gross_mass_kg', sa.Numeric(precision=24, scale=6), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('alcohol_strength', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('volume_litres', sa.Numeric(precision=24, scale=6), nullable=True),
    sa.Column('stick_count', sa.Integer(), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_goods_items_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goods_items')),
    sa.UniqueConstraint('declaration_id', 'sequence', name='uq_goods_items_sequence')
    )
    with op.batch_alter_table('goods_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goods_items_hs_code'), ['hs_code'], unique=False)

    op.create_table('transport_equipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('container_id', sa.String(length=11), nullable=False),
    sa.Column('elock_id', sa.String(length=35), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_transport_equipment_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transport_equipment'))
    )
    with op.batch_alter_table('transport_equipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transport_equipment_container_id'), ['container_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transport_equipment_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transport_equipment_elock_id'), ['elock_id'], unique=False)

    op.create_table('seals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('seal_id', sa.String(length=35), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['transport_equipment.id'], name=op.f('fk_seals_equipment_id_transport_equipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seals'))
    )
    with op.batch_alter_table('seals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seals_equipment_id'), ['equipment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('seals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seals_equipment_id'))

    op.drop_table('seals')
    with op.batch_alter_table('transport_equipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transport_equipment_elock_id'))
        batch_op.drop_index(batch_op.f('ix_transport_equipment_declaration_id'))
        batch_op.drop_index(batch_op.f('ix_transport_equipment_container_id'))

    op.drop_table('transport_equipment')
    with op.batch_alter_table('goods_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goods_items_hs_code'))

    op.drop_table('goods_items')
    with op.batch_alter_table('declaration_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_parties_identifier'))
        batch_op.drop_index(batch_op.f('ix_declaration_parties_declaration_id'))

    op.drop_table('declaration_parties')
    with op.batch_alter_table('declaration_events', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_events_declaration')

    op.drop_table('declaration_events')
    op.drop_table('declaration_documents')
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_index('ix_declarations_declarant_updated')
        batch_op.drop_index('ix_declarations_declarant_status_updated')

    op.drop_table('declarations')
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_clients_party_id'))

    op.drop_table('api_clients')
    op.drop_table('parties')
