"""user session tokens: part of the signed-in session's user id, replaced on sign-out, password
reset and (de)activation so that an old session cookie no longer signs anyone in

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:00:00
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('session_token', sa.String(64)))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('users') as batch:
        batch.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)

def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_token')
