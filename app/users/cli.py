"""``csw users``: officers' accounts from the command line, and the demo accounts of ``csw seed``."""
from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db.case_models import User, UserEvent
from app.db.models import Party
from app.platform.commands import reading as command_reading
from app.platform.commands import transaction as command_transaction
from app.users.service import (LOCALES, ROLES, AccountError, create_user, find_user, reset_password, set_active,
                               set_role)

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
    try:
        with command_transaction(settings) as session:
            party_id = None
            if party_identifier is not None:
                party_id = session.scalar(select(Party.id).where(Party.identifier == party_identifier.strip()))
                if party_id is None:
                    raise AccountError("party", f"no party {party_identifier} (create it with 'csw clients create')")
            user = create_user(session, username, role, password, display_name=display_name, locale=locale,
                               party_id=party_id, actor=_cli_actor())
            click.echo(f"created {user.role} account {user.username} (id {user.id})")
    except AccountError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field.replace('_', '-')}") from None


def _cli_actor() -> str:
    """Who ran the command, for the account's history."""
    return f"cli:{getpass.getuser()}"


def _change(username: str, change: Callable[[Session, User], None]) -> None:
    """Apply one change to an existing account in one transaction, or say why not."""
    settings = Settings.from_env()
    try:
        with command_transaction(settings) as session:
            user = find_user(session, username)
            if user is None:
                raise click.BadParameter(f"no account {username}", param_hint="USERNAME")
            change(session, user)
    except AccountError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field.replace('_', '-')}") from None


REASON = click.option("--reason", required=True, help="Why (kept on the account's history)")


@users.command("deactivate")
@click.argument("username")
@REASON
def users_deactivate(username: str, reason: str) -> None:
    """Deactivate an account: signed out at its next request, cannot sign in."""
    _change(username, lambda session, user: set_active(session, user, False, _cli_actor(), reason))
    click.echo(f"deactivated {username}")


@users.command("reactivate")
@click.argument("username")
@REASON
def users_reactivate(username: str, reason: str) -> None:
    """Let a deactivated account sign in again."""
    _change(username, lambda session, user: set_active(session, user, True, _cli_actor(), reason))
    click.echo(f"reactivated {username}")


@users.command("set-role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r for r in ROLES if r != "trader"]))
@REASON
def users_set_role(username: str, role: str, reason: str) -> None:
    """Change an officer's role among officer, supervisor and admin."""
    _change(username, lambda session, user: set_role(session, user, role, _cli_actor(), reason))
    click.echo(f"{username} is now {role}")


@users.command("reset-password")
@click.argument("username")
@REASON
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (first line)")
def users_reset_password(username: str, reason: str, password_stdin: bool) -> None:
    """Set a new password (prompted for, hidden, unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _change(username, lambda session, user: reset_password(session, user, password, _cli_actor(), reason))
    click.echo(f"password of {username} reset")


@users.command("history")
@click.argument("username")
def users_history(username: str) -> None:
    """Everything done to an account: when, what, by whom, why."""
    settings = Settings.from_env()
    with command_reading(settings) as session:
        user = find_user(session, username)
        if user is None:
            raise click.BadParameter(f"no account {username}", param_hint="USERNAME")
        for event in session.scalars(select(UserEvent).where(UserEvent.user_id == user.id).order_by(UserEvent.id)):
            detail = " ".join(f"{k}={v}" for k, v in (event.detail or {}).items())
            click.echo(f"{event.occurred_at.isoformat()}\t{event.kind}\t{event.actor}\t{detail}\t{event.note or ''}")


@users.command("list")
def users_list() -> None:
    """Every account: username, role, language, active, last sign-in."""
    settings = Settings.from_env()
    with command_reading(settings) as session:
        for user in session.scalars(select(User).order_by(User.role, User.username)):
            last = user.last_login_at.isoformat() if user.last_login_at else "never"
            party = session.get(Party, user.party_id) if user.party_id is not None else None
            click.echo(f"{user.username}\t{user.role}\t{user.locale}\t"
                       f"{'active' if user.active else 'inactive'}\t{last}"
                       + (f"\tparty {party.identifier}" if party is not None else ""))
