"""traders' portal: trader users bound to a party, declaration drafts, answers to document requests

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 04:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('party_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_users_party_id'), ['party_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_users_party_id_parties'), 'parties', ['party_id'], ['id'])
    op.create_table('declaration_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=True),
    sa.Column('type_code', sa.String(length=2), nullable=False),
    sa.Column('lrn', sa.String(length=35), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_declaration_drafts_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_declaration_drafts_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_drafts'))
    )
    op.create_index('ix_declaration_drafts_party', 'declaration_drafts', ['party_id', 'updated_at'], unique=False)
    op.create_table('document_request_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=True),
    sa.Column('content_type', sa.String(length=60), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('answered_by', sa.String(length=120), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_document_request_answers_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['request_id'], ['document_requests.id'],
                            name=op.f('fk_document_request_answers_request_id_document_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_request_answers'))
    )
    op.create_index('ix_document_request_answers_declaration', 'document_request_answers',
                    ['declaration_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_document_request_answers_declaration', table_name='document_request_answers')
    op.drop_table('document_request_answers')
    op.drop_index('ix_declaration_drafts_party', table_name='declaration_drafts')
    op.drop_table('declaration_drafts')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(batch.f('fk_users_party_id_parties'), type_='foreignkey')
        batch.drop_index(batch.f('ix_users_party_id'))
        batch.drop_column('party_id')
