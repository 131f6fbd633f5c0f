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
from app.services.declarations import Caller

KEY_PREFIX = "csw_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_party(session: Session, identifier: str, name: str) -> models.Party:
    party = session.scalar(select(models.Party).where(models.Party.identifier == identifier))
    if party is None:
        party = models.Party(identifier=identifier, name=name, created_at=datetime.now(timezone.utc))
        session.add(party)
        session.flush()
    return party


def create_client(session: Session, name: str, party: models.Party, key: str | None = None
                  ) -> tuple[models.ApiClient, str]:
    """Register a client for ``party``; returns the client and its key (shown once)."""
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    client = models.ApiClient(
        name=name, party=party, key_prefix=key[:12], key_hash=hash_key(key),
        created_at=datetime.now(timezone.utc),
    )
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str) -> Caller | None:
    client = session.scalar(
        select(models.ApiClient).where(
            models.ApiClient.key_hash == hash_key(key), models.ApiClient.revoked_at.is_(None)
        )
    )
    if client is None:
        return None
    return Caller(actor=f"client:{client.id}:{client.name}", party_id=client.party_id,
                  party_identifier=client.party.identifier)


def revoke_client(session: Session, client_id: int) -> models.ApiClient | None:
    client = session.get(models.ApiClient, client_id)
    if client is not None and client.revoked_at is None:
        client.revoked_at = datetime.now(timezone.utc)
    return client
