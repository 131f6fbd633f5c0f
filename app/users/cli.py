"""``csw users``: officers' accounts from the command line, and the demo accounts of ``csw seed``."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.case_models import User
from app.db.models import Party
from app.db.session import make_engine, make_session_factory
from app.users.service import LOCALES, ROLES, AccountError, create_user, find_user

# Demo accounts (README): for trying the officers' application, never for production.
DEMO_USERS = [
    ("officer", "officer", "Chan Tai Man (demo officer)", "officer-demo-pass", "en"),
    ("officer2", "officer", "Wong Siu Ming (demo officer)", "officer2-demo-pass", "zh_Hant"),
    ("supervisor", "supervisor", "Lee Ka Yan (demo supervisor)", "supervisor-demo-pass", "en"),
    ("admin", "admin", "Ho Wing Kei (demo administrator)", "admin-demo-pass", "en"),
]


# Demo trader accounts of the traders' portal, one per demo party (created by ``csw seed``).
DEMO_TRADERS = [
    ("trader", "12345678", "Demo Trading Company Limited (demo trader)", "trader-demo-pass", "en"),
    ("harbour", "87654321", "Harbour Logistics Limited (demo trader)", "harbour-demo-pass", "zh_Hant"),
]


def seed_demo_traders(session: Session) -> list[str]:
    """Create the missing demo trader accounts (their parties must exist); one line per account."""
    lines = []
    for username, party_identifier, name, password, locale in DEMO_TRADERS:
        party = session.scalar(select(Party).where(Party.identifier == party_identifier))
        if party is None:
            continue
        if find_user(session, username) is None:
            create_user(session, username, "trader", password, display_name=name, locale=locale, party_id=party.id)
        lines.append(f"demo trader account {username} (party {party_identifier}): password {password}")
    return lines


def seed_demo_users(session: Session) -> list[str]:
    """Create the demo accounts that are missing; returns one line per account for the console."""
    lines = []
    for username, role, name, password, locale in DEMO_USERS:
        if find_user(session, username) is None:
            create_user(session, username, role, password, display_name=name, locale=locale)
        lines.append(f"demo {role} account {username}: password {password}")
    return lines


@click.group()
def users() -> None:
    """Accounts of the officers' web application."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", "display_name", default=None, help="Full name shown in the application")
@click.option("--locale", default="en", show_default=True, type=click.Choice(LOCALES))
@click.option("--party", "party_identifier", default=None,
              help="BR number of the party a trader account acts for (role trader only)")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (first line)")
def users_create(username: str, role: str, display_name: str | None, locale: str, party_identifier: str | None,
                 password_stdin: bool) -> None:
    """Create an account. Without --password-stdin the password is prompted for (hidden)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    try:
        with sessions() as session, session.begin():
            party_id = None
            if party_identifier is not None:
                party_id = session.scalar(select(Party.id).where(Party.identifier == party_identifier.strip()))
                if party_id is None:
                    raise AccountError("party", f"no party {party_identifier} (create it with 'csw clients create')")
            user = create_user(session, username, role, password, display_name=display_name, locale=locale,
                               party_id=party_id)
            click.echo(f"created {user.role} account {user.username} (id {user.id})")
    except AccountError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field.replace('_', '-')}") from None


@users.command("list")
def users_list() -> None:
    """Every account: username, role, language, active, last sign-in."""
    settings = Settings.from_env()
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions() as session:
        for user in session.scalars(select(User).order_by(User.role, User.username)):
            last = user.last_login_at.isoformat() if user.last_login_at else "never"
            party = session.get(Party, user.party_id) if user.party_id is not None else None
            click.echo(f"{user.username}\t{user.role}\t{user.locale}\t"
                       f"{'active' if user.active else 'inactive'}\t{last}"
                       + (f"\tparty {party.identifier}" if party is not None else ""))
