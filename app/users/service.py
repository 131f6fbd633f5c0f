"""Accounts of the officers' web application.

Passwords are hashed with Argon2id (argon2-cffi), the OWASP-recommended password hash; a
hash made with older parameters is upgraded at the next successful sign-in.
"""
from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.case_models import User, UserEvent, new_session_token
from app.db.models import Party
from app.platform.clock import utcnow

ROLES = ("officer", "supervisor", "admin", "trader")
# Trader users act for one party (HK BR number) in the traders' portal; the others are officers.
PARTY_ROLES = ("trader",)
LOCALES = ("en", "zh_Hant")
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,59}$")

_hasher = PasswordHasher()
# A hash that no password matches: verifying against it when the user is unknown keeps the
# response time of a wrong username the same as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


class AccountError(ValueError):
    """An account cannot be created or changed as asked; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(session: Session, username: str, role: str, password: str, display_name: str | None = None,
                locale: str = "en", control_point: str | None = None, party_id: int | None = None,
                password_hash: str | None = None, actor: str = "system") -> User:
    """Add an account; refuses unknown roles, malformed or taken usernames and short passwords,
    a trader without a party and an officer with one. ``password_hash``: the password already
    hashed by a caller that hashes (slowly, on purpose) before taking the write lock.
    ``actor``: who creates it, for the account's event history."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise AccountError("username", "username: 2-60 characters, lower-case letters, digits, . _ -, "
                                       "starting with a letter")
    if role not in ROLES:
        raise AccountError("role", f"role must be one of {', '.join(ROLES)}")
    if (role in PARTY_ROLES) != (party_id is not None):
        raise AccountError("party", "a trader account needs its party (BR number); other roles have none")
    if locale not in LOCALES:
        raise AccountError("locale", f"locale must be one of {', '.join(LOCALES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError("username", f"username {username} is taken")
    user = User(username=username, display_name=display_name or username, role=role,
                password_hash=password_hash or hash_password(password), locale=locale, control_point=control_point,
                party_id=party_id, active=True, created_at=utcnow())
    session.add(user)
    session.flush()
    _event(session, user, "created", actor, {"role": role, "party_id": party_id, "locale": locale})
    return user


def _event(session: Session, user: User, kind: str, actor: str, detail: dict[str, object] | None = None,
           note: str | None = None) -> None:
    session.add(UserEvent(user_id=user.id, kind=kind, actor=actor, occurred_at=utcnow(),
                          detail=detail, note=note))


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise AccountError("reason", "a reason is required for this change of an account")
    return reason[:500]


def _keep_an_administrator(session: Session, user: User) -> None:
    """Refuse to take away the last active administrator (only the command line could then
    manage accounts). The active administrators' rows are locked, so two administrators
    removing each other at the same moment cannot both succeed."""
    if user.role != "admin":
        return
    admins = session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                             .order_by(User.id).with_for_update()).all()
    if not set(admins) - {user.id}:
        raise AccountError("active", "the last active administrator cannot be deactivated or given another role")


def set_active(session: Session, user: User, active: bool, actor: str, reason: str) -> None:
    """Deactivate (the account is signed out at its next request and cannot sign in) or
    reactivate an account, with the reason on its history."""
    reason = _reason(reason)
    if user.active == active:
        raise AccountError("active", f"account {user.username} is already {'active' if active else 'inactive'}")
    if not active and actor == f"officer:{user.username}":
        raise AccountError("active", "administrators cannot deactivate their own account")
    if not active:
        _keep_an_administrator(session, user)
    user.active = active
    end_sessions(user)
    _event(session, user, "reactivated" if active else "deactivated", actor, None, reason)


def set_role(session: Session, user: User, role: str, actor: str, reason: str) -> None:
    """Change an officer's role (officer, supervisor, admin); traders stay traders."""
    reason = _reason(reason)
    if role not in ROLES or role in PARTY_ROLES or user.role in PARTY_ROLES:
        raise AccountError("role", "roles change only among officer, supervisor and admin")
    if role == user.role:
        raise AccountError("role", f"account {user.username} already has the role {role}")
    _keep_an_administrator(session, user)
    _event(session, user, "role_changed", actor, {"from": user.role, "to": role}, reason)
    user.role = role


def reset_password(session: Session, user: User, password: str, actor: str, reason: str,
                   password_hash: str | None = None) -> None:
    """Set a new password (the history says that and why, never the password)."""
    reason = _reason(reason)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = password_hash or hash_password(password)
    end_sessions(user)
    _event(session, user, "password_reset", actor, None, reason)


def end_sessions(user: User) -> None:
    """Sign the account out everywhere: sessions carry the old token, which no longer loads it."""
    user.session_token = new_session_token()


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def check_password(user: User | None, password: str) -> bool:
    """True for an active user and the right password. Costs the same for an unknown user
    (a dummy hash is verified), so response times do not reveal which usernames exist.
    Needs no database: the caller may end its transaction before this deliberately slow step."""
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return False
    return _verify(user.password_hash, password)


def record_sign_in(user: User, password: str, now: datetime | None = None) -> None:
    """Note the sign-in; a hash made with older Argon2 parameters is upgraded now."""
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now or utcnow()


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User | None:
    """The active user with this username and password (sign-in recorded), or None."""
    user = find_user(session, username)
    if not check_password(user, password):
        return None
    assert user is not None
    record_sign_in(user, password, now)
    return user


def set_locale(user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise AccountError("locale", f"locale must be one of {', '.join(LOCALES)}")
    user.locale = locale


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def party_id_for(session: Session, identifier: str) -> int:
    """The party a trader account will act for, by its identifier (BR number)."""
    party_id = session.scalar(select(Party.id).where(Party.identifier == identifier.strip().upper()))
    if party_id is None:
        raise AccountError("party", f"no party {identifier.strip()[:35]} is known")
    return party_id


def history(session: Session, user: User) -> list[UserEvent]:
    """What happened to the account, newest first."""
    return list(session.scalars(select(UserEvent).where(UserEvent.user_id == user.id)
                                .order_by(UserEvent.id.desc())))
