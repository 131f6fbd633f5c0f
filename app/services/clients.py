"""System clients (logistics systems) and their API keys.

A key is shown once when created; only its SHA-256 is stored. Keys are 256-bit random
tokens, so a fast hash is enough (no password stretching needed) and look-up is one
indexed query.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import models
from app.services.cache import TtlCache
from app.services.declarations import Caller

KEY_PREFIX = "csw_"
ROLES = ("trader", "partner", "admin", "gateway")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_party(session: Session, identifier: str, name: str) -> models.Party:
    party = session.scalar(select(models.Party).where(models.Party.identifier == identifier))
    if party is None:
        party = models.Party(identifier=identifier, name=name, created_at=datetime.now(timezone.utc))
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
        created_at=datetime.now(timezone.utc),
    )
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str, cache: TtlCache[str, Caller] | None = None) -> Caller | None:
    """The caller a key belongs to, or None for an unknown or revoked key.

    A look-up runs in its own short transaction, ended here, so that on SQLite the write
    lock of the request's later transaction is not held while its document is parsed."""
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
    caller = None if client is None else Caller(
        actor=f"client:{client.id}:{client.name}", party_id=client.party_id,
        party_identifier=client.party.identifier, role=client.role,
    )
    session.rollback()
    if caller is not None and cache is not None:
        cache.put(key_hash, caller)
    return caller


def revoke_client(session: Session, client_id: int) -> models.ApiClient | None:
    client = session.get(models.ApiClient, client_id)
    if client is not None and client.revoked_at is None:
        client.revoked_at = datetime.now(timezone.utc)
    return client
