"""trips bundle cargo references; the crossing; officers' decisions on cargo; write-off tables

Existing trip links to declarations are kept as they are and stay readable (and count in the
kiosk decision) during the transition: a declaration is not a cargo reference, and no cargo
record exists for the goods of an old link to map it to. New links name cargo references.
Cargo lodged before this revision becomes a write-off line (CRN) like cargo lodged after it.

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-07 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crossed_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('trip_consignments', schema=None) as batch_op:
        batch_op.alter_column('declaration_id', existing_type=sa.String(length=16), nullable=True)
        batch_op.add_column(sa.Column('cargo_id', sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_trip_consignments_cargo_id_cargo_records'), 'cargo_records',
                                    ['cargo_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_trip_consignments_cargo_id'), ['cargo_id'])
    with op.batch_alter_table('trip_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cargo_id', sa.String(length=16), nullable=True))
    with op.batch_alter_table('cargo_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('control_decision', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('cargo_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('identifier', sa.String(length=40), nullable=False),
    sa.Column('package_count', sa.Integer(), nullable=False),
    sa.Column('gross_mass', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('responsible_party_id', sa.Integer(), nullable=False),
    sa.Column('exempt', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('packages_declared', sa.Integer(), nullable=False),
    sa.Column('mass_declared', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lodged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['responsible_party_id'], ['parties.id'],
                            name=op.f('fk_cargo_lines_responsible_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_lines')),
    sa.UniqueConstraint('kind', 'identifier', name='uq_cargo_lines_kind_identifier')
    )
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.create_index('ix_cargo_lines_follow_up', ['status', 'moved_at'], unique=False)
        batch_op.create_index('ix_cargo_lines_party', ['responsible_party_id', 'updated_at'], unique=False)
    op.create_table('cargo_line_covers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=False),
    sa.Column('package_count', sa.Integer(), nullable=True),
    sa.Column('gross_mass', sa.Numeric(precision=15, scale=3), nullable=True),
    sa.Column('covered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['declaration_id'], ['declarations.id'],
                            name=op.f('fk_cargo_line_covers_declaration_id_declarations')),
    sa.ForeignKeyConstraint(['line_id'], ['cargo_lines.id'], name=op.f('fk_cargo_line_covers_line_id_cargo_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_line_covers')),
    sa.UniqueConstraint('line_id', 'declaration_id', name='uq_cargo_line_covers_declaration')
    )
    with op.batch_alter_table('cargo_line_covers', schema=None) as batch_op:
        batch_op.create_index('ix_cargo_line_covers_declaration', ['declaration_id'], unique=False)
    op.create_table('cargo_line_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('declaration_id', sa.String(length=16), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['line_id'], ['cargo_lines.id'], name=op.f('fk_cargo_line_events_line_id_cargo_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cargo_line_events'))
    )
    with op.batch_alter_table('cargo_line_events', schema=None) as batch_op:
        batch_op.create_index('ix_cargo_line_events_line', ['line_id', 'id'], unique=False)

    empty_list = "CAST('[]' AS JSON)" if op.get_bind().dialect.name == 'postgresql' else "'[]'"
    op.execute(
        "INSERT INTO cargo_lines (kind, identifier, package_count, gross_mass, responsible_party_id, exempt, status, "
        "packages_declared, mass_declared, findings, moved_at, followed_up_at, lodged_at, updated_at) "
        "SELECT 'CRN', id, package_count, COALESCE(gross_mass_kg, 0), submitter_party_id, false, "
        "CASE WHEN status = 'cancelled' THEN 'cancelled' ELSE 'open' END, 0, 0, " + empty_list + ", NULL, NULL, "
        "received_at, updated_at FROM cargo_records"
    )


def downgrade() -> None:
    with op.batch_alter_table('cargo_line_events', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_line_events_line')
    op.drop_table('cargo_line_events')
    with op.batch_alter_table('cargo_line_covers', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_line_covers_declaration')
    op.drop_table('cargo_line_covers')
    with op.batch_alter_table('cargo_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_cargo_lines_party')
        batch_op.drop_index('ix_cargo_lines_follow_up')
    op.drop_table('cargo_lines')
    with op.batch_alter_table('cargo_records', schema=None) as batch_op:
        batch_op.drop_column('moved_at')
        batch_op.drop_column('control_decision')
    with op.batch_alter_table('trip_events', schema=None) as batch_op:
        batch_op.drop_column('cargo_id')
    op.execute("DELETE FROM trip_consignments WHERE declaration_id IS NULL")
    with op.batch_alter_table('trip_consignments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_trip_consignments_cargo_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_trip_consignments_cargo_id_cargo_records'), type_='foreignkey')
        batch_op.drop_column('cargo_id')
        batch_op.alter_column('declaration_id', existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_column('crossed_at')
