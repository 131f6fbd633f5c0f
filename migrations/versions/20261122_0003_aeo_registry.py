"""aeo registry

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 01:01:14.243581
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('aeo_operators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.String(length=35), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=140), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aeo_operators')),
    sa.UniqueConstraint('operator_id', name=op.f('uq_aeo_operators_operator_id'))
    )
    with op.batch_alter_table('aeo_operators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aeo_operators_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_aeo_operators_valid_until'), ['valid_until'], unique=False)

    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=50), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)

    op.create_table('aeo_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('operator_pk', sa.Integer(), nullable=False),
    sa.Column('status_from', sa.String(length=10), nullable=True),
    sa.Column('status_to', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['operator_pk'], ['aeo_operators.id'], name=op.f('fk_aeo_status_events_operator_pk_aeo_operators')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aeo_status_events'))
    )
    with op.batch_alter_table('aeo_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aeo_status_events_operator_pk'), ['operator_pk'], unique=False)

    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=10), server_default='trader', nullable=False))

    with op.batch_alter_table('declaration_parties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aeo_id', sa.String(length=35), nullable=True))

    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aeo', sa.JSON(none_as_null=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('declarations', schema=None) as batch_op:
        batch_op.drop_column('aeo')

    with op.batch_alter_table('declaration_parties', schema=None) as batch_op:
        batch_op.drop_column('aeo_id')

    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('role')

    with op.batch_alter_table('aeo_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aeo_status_events_operator_pk'))

    op.drop_table('aeo_status_events')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')

    op.drop_table('job_runs')
    with op.batch_alter_table('aeo_operators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aeo_operators_valid_until'))
        batch_op.drop_index(batch_op.f('ix_aeo_operators_status'))

    op.drop_table('aeo_operators')
