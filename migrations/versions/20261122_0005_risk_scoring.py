"""risk scoring: risk assessments, models, inspection outcomes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 02:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('revenue_at_stake', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=False),
    sa.Column('lane_reason', sa.Text(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('random_sample', sa.Boolean(), nullable=False),
    sa.Column('sample_draw', sa.Float(), nullable=False),
    sa.Column('sample_seed', sa.String(length=64), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('policy_version', sa.String(length=64), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_risk_assessments_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessments')),
    sa.UniqueConstraint('declaration_id', 'version', name='uq_risk_assessments_version')
    )
    op.create_table('inspection_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('revenue_recovered', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('random_sample', sa.Boolean(), nullable=True),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_inspection_outcomes_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_outcomes'))
    )
    with op.batch_alter_table('inspection_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_outcomes_declaration_id'), ['declaration_id'], unique=False)
        batch_op.create_index('ix_inspection_outcomes_occurred', ['occurred_at'], unique=False)

    op.create_table('risk_model_promotions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_version', sa.String(length=64), nullable=False),
    sa.Column('current_version', sa.String(length=64), nullable=True),
    sa.Column('promoted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('candidate_metrics', sa.JSON(), nullable=False),
    sa.Column('current_metrics', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('artefact_path', sa.String(length=500), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_model_promotions'))
    )
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('risk_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('revenue_at_stake', sa.Numeric(precision=18, scale=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_column('revenue_at_stake')
        batch_op.drop_column('risk_score')
    op.drop_table('risk_model_promotions')
    with op.batch_alter_table('inspection_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_inspection_outcomes_occurred')
        batch_op.drop_index(batch_op.f('ix_inspection_outcomes_declaration_id'))
    op.drop_table('inspection_outcomes')
    op.drop_table('risk_assessments')
