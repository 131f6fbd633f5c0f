"""declarations naming a cargo line customs do not hold yet: their cover waits for the line

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-08 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cargo_line_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('identifier', sa.String(length=40), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('package_count', sa.Integer(), nullable=True),
    sa.Column('gross_mass', sa.Numeric(precision=15, scale=3), nullable=True),
    sa.Column('named_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_cargo_line_references_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_line_references')),
    sa.UniqueConstraint('kind', 'identifier', 'declaration_id', name='uq_cargo_line_references')
    )
    with op.batch_alter_table('cargo_line_references', schema=None) as batch_op:
        batch_op.create_index('ix_cargo_line_references_declaration', ['declaration_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cargo_line_references', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_line_references_declaration')
    op.drop_table('cargo_line_references')
