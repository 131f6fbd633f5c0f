"""case queue: users, cases, case events (with notes), document requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 02:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The queue's indexes: name -> leading columns; each continues with priority, opened_at, id
# (read backwards for a queue page: highest priority first).
QUEUE_INDEXES: dict[str, list[str]] = {
    'ix_cases_queue': ['active'],
    'ix_cases_lane_queue': ['active', 'lane'],
    'ix_cases_control_point_queue': ['active', 'control_point'],
    'ix_cases_type_queue': ['active', 'type_code'],
    'ix_cases_alert_queue': ['active', 'alert_kind'],
    'ix_cases_assignee_queue': ['assigned_to_id', 'active'],
}


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=60), nullable=False),
    sa.Column('display_name', sa.String(length=140), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=10), server_default='en', nullable=False),
    sa.Column('control_point', sa.String(length=5), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=True),
    sa.Column('journey_id', sa.String(length=40), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('lane', sa.String(length=10), nullable=True),
    sa.Column('control_point', sa.String(length=5), nullable=True),
    sa.Column('type_code', sa.String(length=2), nullable=True),
    sa.Column('alert_kind', sa.String(length=40), nullable=True),
    sa.Column('selection', sa.String(length=10), server_default='targeted', nullable=False),
    sa.Column('risk_score', sa.Integer(), server_default='0', nullable=False),
    sa.Column('revenue_at_stake', sa.Numeric(precision=18, scale=2), server_default='0', nullable=False),
    sa.Column('aeo_priority', sa.Integer(), server_default='0', nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('escalation_level', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision', sa.String(length=30), nullable=True),
    sa.Column('inspection_result', sa.String(length=15), nullable=True),
    sa.Column('revenue_recovered', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['users.id'], name=op.f('fk_cases_assigned_to_id_users')),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_cases_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('alert_id', name=op.f('uq_cases_alert_id'))
    )
    for name, leading in QUEUE_INDEXES.items():
        op.create_index(name, 'cases', [*leading, 'priority', 'opened_at', 'id'], unique=False)
    op.create_index('ix_cases_closed_at', 'cases', ['closed_at'], unique=False)
    op.create_index('ix_cases_declaration_active', 'cases', ['declaration_id', 'active'], unique=False)
    op.create_index('ix_cases_state_opened', 'cases', ['state', 'opened_at'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index('ix_case_events_case', 'case_events', ['case_id', 'id'], unique=False)
    op.create_table('document_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('documents', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=120), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_document_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'], name=op.f('fk_document_requests_declaration_id_declarations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_requests'))
    )
    op.create_index('ix_document_requests_declaration', 'document_requests', ['declaration_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_document_requests_declaration', table_name='document_requests')
    op.drop_table('document_requests')
    op.drop_index('ix_case_events_case', table_name='case_events')
    op.drop_table('case_events')
    for name in QUEUE_INDEXES:
        op.drop_index(name, table_name='cases')
    op.drop_index('ix_cases_state_opened', table_name='cases')
    op.drop_index('ix_cases_declaration_active', table_name='cases')
    op.drop_index('ix_cases_closed_at', table_name='cases')
    op.drop_table('cases')
    op.drop_table('users')
