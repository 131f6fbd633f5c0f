"""System clients (logistics systems) and their API keys.

A key is shown once when created; only its SHA-256 is stored. Keys are 256-bit random
tokens, so a fast hash is enough (no password stretching needed) and look-up is one
indexed query.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import models
from app.platform.cache import TtlCache
from app.domain.actors import Caller
from app.domain.problems import Problem, Rejection
from app.platform.clock import utcnow

KEY_PREFIX = "csw_"
ROLES = ("trader", "carrier", "partner", "admin", "gateway")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_party(session: Session, identifier: str, name: str) -> models.Party:
    party = session.scalar(select(models.Party).where(models.Party.identifier == identifier))
    if party is None:
        party = models.Party(identifier=identifier, name=name, created_at=utcnow())
        session.add(party)
        session.flush()
    return party


def create_client(session: Session, name: str, party: models.Party, key: str | None = None,
                  role: str = "trader") -> tuple[models.ApiClient, str]:
    """Register a client for ``party``; returns the client and its key (shown once).

    ``trader``: lodges and reads its party's declarations; ``partner``: a partner customs
    system that looks up AEO status; ``admin``: also changes AEO registrations."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    client = models.ApiClient(
        name=name, party=party, key_prefix=key[:12], key_hash=hash_key(key), role=role,
        created_at=utcnow(),
    )
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str, cache: TtlCache[str, Caller] | None = None) -> Caller | None:
    """The caller a key belongs to, or None for an unknown or revoked key (a read; the caller
    ends its transaction)."""
    key_hash = hash_key(key)
    if cache is not None:
        hit, cached = cache.get(key_hash)
        if hit and cached is not None:
            return cached
    client = session.scalar(
        select(models.ApiClient).where(
            models.ApiClient.key_hash == key_hash, models.ApiClient.revoked_at.is_(None)
        )
    )
    caller = None if client is None else caller_for(client)
    if caller is not None and cache is not None:
        cache.put(key_hash, caller)
    return caller


def caller_for(client: models.ApiClient) -> Caller:
    """The caller an API client acts as (its party, its role)."""
    return Caller(actor=f"client:{client.id}:{client.name}", party_id=client.party_id,
                  party_identifier=client.party.identifier, role=client.role, client_id=client.id)


def client_named(session: Session, name: str) -> Caller | None:
    """The live client called ``name`` as a caller (for lodging from the command line)."""
    client = session.scalar(select(models.ApiClient).where(
        models.ApiClient.name == name, models.ApiClient.revoked_at.is_(None)).order_by(models.ApiClient.id.desc()))
    return None if client is None else caller_for(client)


def revoke_client(session: Session, client_id: int) -> models.ApiClient | None:
    client = session.get(models.ApiClient, client_id)
    if client is not None and client.revoked_at is None:
        client.revoked_at = utcnow()
    return client


# --- a trader's own keys (the traders' portal) ----------------------------------------------

def list_keys(session: Session, caller: Caller) -> list[models.ApiClient]:
    """The trader keys of the caller's party, live ones first."""
    return list(session.scalars(select(models.ApiClient).where(
        models.ApiClient.party_id == caller.party_id, models.ApiClient.role == "trader")
        .order_by(models.ApiClient.revoked_at.is_not(None), models.ApiClient.id.desc())))


def create_key(session: Session, caller: Caller, name: str) -> tuple[models.ApiClient, str]:
    """A new trader key for the party's own system; the key itself is returned once. Names
    are unique among the party's live keys (case-insensitive), so a revoke button that names
    a key names one key."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 100:
        raise Rejection("INVALID_PARAMETER", "name the system that will use the key (2 to 100 characters)",
                        [Problem(message="2 to 100 characters", path="name", rule="name-length")])
    # The party row is locked, so two requests creating keys of one name cannot both pass.
    party = session.scalar(select(models.Party).where(models.Party.id == caller.party_id).with_for_update())
    assert party is not None
    taken = session.scalar(select(models.ApiClient.id).where(
        models.ApiClient.party_id == party.id, models.ApiClient.revoked_at.is_(None),
        func.lower(models.ApiClient.name) == name.lower()).limit(1))
    if taken is not None:
        raise Rejection("INVALID_PARAMETER", f"a live key is already named {name!r}: choose another name or revoke it",
                        [Problem(message="name already used by a live key", path="name", rule="name-taken")])
    return create_client(session, name, party, role="trader")


def revoke_key(session: Session, caller: Caller, client_id: int) -> models.ApiClient:
    """Revoke one of the caller's party's trader keys; anyone else's answers NOT_FOUND."""
    client = session.get(models.ApiClient, client_id)
    if client is None or client.party_id != caller.party_id or client.role != "trader":
        raise Rejection("NOT_FOUND", f"no API key {client_id}")
    revoked = revoke_client(session, client_id)
    assert revoked is not None
    return revoked
