"""business rules: findings, charges, rules version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:35:04.744390
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('declaration_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('severity', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_declaration_findings_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration_findings'))
    )
    with op.batch_alter_table('declaration_findings', schema=None) as batch_op:
        batch_op.create_index('ix_declaration_findings_declaration', ['declaration_id', 'version'], unique=False)

    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('movement_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rules_version', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('charges', sa.JSON(none_as_null=True), nullable=True))

    with op.batch_alter_table('goods_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('length_mm', sa.Numeric(precision=8, scale=2), nullable=True))
        batch_op.add_column(sa.Column('package_type', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('package_count', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('goods_items', schema=None) as batch_op:
        batch_op.drop_column('package_count')
        batch_op.drop_column('package_type')
        batch_op.drop_column('length_mm')

    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_column('charges')
        batch_op.drop_column('rules_version')
        batch_op.drop_column('movement_at')

    with op.batch_alter_table('declaration_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_declaration_findings_declaration')

    op.drop_table('declaration_findings')
