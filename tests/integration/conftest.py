"""Fixtures shared by several integration modules (a fixture imported into a test module
and then taken as a parameter would shadow its own import)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.db import models
from app.db.case_models import User
from app.users.clients import create_client, ensure_party
from app.users.service import create_user
from tests.conftest import CARRIER_KEY, OTHER_BRN, OTHER_CARRIER_KEY, TRADER_BRN, hashed
from tests.integration.test_officer_app import PASSWORDS, ROLES
from tests.integration.test_portal_web import PASSWORD as PORTAL_PASSWORD
from tests.integration.test_routing_admin import PASSWORD as ROUTING_ADMIN_PASSWORD
from tests.integration.test_routing_delivery import Receiver
from tests.integration.test_transit_journeys import ADMIN_KEY, GATEWAY_KEY


@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes() -> Iterator[None]:
    """Argon2id with its cheapest work factor in the in-process apps: the default (3 passes over
    64 MiB, 4 lanes) costs about 0.2 s of CPU per hash and per sign-in, and these tests sign in a
    few hundred times. Signing in still verifies a real Argon2id hash, and an unknown user a dummy
    one; the served instances (``tests/served.py``) and the browser tests keep the defaults."""
    from argon2 import PasswordHasher

    from app.users import service

    saved = service._hasher, service._DUMMY_HASH
    service._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    service._DUMMY_HASH = service._hasher.hash("not-a-real-password-for-timing")
    yield
    service._hasher, service._DUMMY_HASH = saved


@pytest.fixture()
def transit(client: FlaskClient, clean_app: Flask) -> FlaskClient:
    """The test client, with the e-lock gateway's and the customs admin's API clients registered."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        customs = ensure_party(session, "HKCED0001", "Customs and Excise Department")
        create_client(session, "elock-gateway", customs, key=GATEWAY_KEY, role="gateway")
        create_client(session, "customs-admin", customs, key=ADMIN_KEY, role="admin")
    return client


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """Argon2 is slow on purpose: hash the test passwords once per run."""
    return {username: hashed(password) for username, password in PASSWORDS.items()}


@pytest.fixture()
def accounts(clean_app: Flask, password_hashes: dict[str, str]) -> Iterator[dict[str, int]]:
    """The officers' application's users (officer, officer2, supervisor, admin, trader): their ids."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        party = session.scalar(select(models.Party.id).where(models.Party.identifier == TRADER_BRN))
        rows = [User(username=name, display_name=f"{name.title()} Test", role=ROLES[name],
                     password_hash=password_hashes[name], locale="en", active=True,
                     party_id=party if ROLES[name] == "trader" else None,
                     created_at=datetime.now(timezone.utc)) for name in PASSWORDS]
        session.add_all(rows)
        session.flush()
        ids = {row.username: row.id for row in rows}
    yield ids


@pytest.fixture()
def admin_browser(clean_app: Flask) -> FlaskClient:
    """A browser client, with a routing admin and an officer account to sign in as."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        for name, role in (("routing-admin", "admin"), ("routing-officer", "officer")):
            session.add(User(username=name, display_name=name, role=role,
                             password_hash=hashed(ROUTING_ADMIN_PASSWORD),
                             locale="en", active=True, created_at=datetime.now(timezone.utc)))
    return clean_app.test_client()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    """A webhook receiver (not started), stopped after the test."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture()
def traders(clean_app: Flask) -> Flask:
    """Trader accounts ``trader`` (12345678) and ``harbour`` (87654321), and an officer."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        for username, brn in (("trader", TRADER_BRN), ("harbour", OTHER_BRN)):
            party = session.scalar(select(models.Party).where(models.Party.identifier == brn))
            assert party is not None
            create_user(session, username, "trader", PORTAL_PASSWORD, party_id=party.id,
                        password_hash=hashed(PORTAL_PASSWORD))
        create_user(session, "officer", "officer", PORTAL_PASSWORD, password_hash=hashed(PORTAL_PASSWORD))
    return clean_app


@pytest.fixture()
def carriers(clean_app: Flask) -> Flask:
    """A carrier API client for the harbour party (the manifest samples' submitter), another for
    the trader's party."""
    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_client(session, "harbour-carrier", ensure_party(session, OTHER_BRN, "Harbour Logistics Limited"),
                      key=CARRIER_KEY, role="carrier")
        create_client(session, "trading-carrier", ensure_party(session, TRADER_BRN, "Demo Trading Company Limited"),
                      key=OTHER_CARRIER_KEY, role="carrier")
    return clean_app
