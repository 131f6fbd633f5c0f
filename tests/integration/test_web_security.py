"""Security headers, cookie flags and per-client API rate limits, as a client sees them."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, Response

from app import create_app
from app.config import Settings
from tests.conftest import OTHER_KEY, TRADER_KEY, auth


def test_pages_and_api_answers_carry_the_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    for response in (client.get("/"), client.get("/api/v1/declarations", headers=auth())):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_tls(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/", base_url="https://csw.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


SECURITY_HEADER_NAMES = ["Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                         "Cross-Origin-Opener-Policy"]


def test_every_answer_carries_each_security_header_once_in_one_order(client) -> None:  # type: ignore[no-untyped-def]
    """API answers (accepted, refused, unmatched) and pages: the security headers once each, in
    one order, after the answer's own; over TLS HSTS follows them."""
    answers = [client.get("/api/v1/declarations", headers=auth()),
               client.get("/api/v1/declarations/NOT-A-REFERENCE", headers=auth()),
               client.get("/api/v1/nowhere", headers=auth()), client.get("/")]
    for response in answers:
        names = [name for name, _ in response.headers]
        assert len(set(names)) == len(names)
        first = names.index("Content-Security-Policy")
        assert names[first:first + 5] == SECURITY_HEADER_NAMES
        assert names.index("Content-Type") < first
    secure = client.get("/api/v1/declarations", headers=auth(), base_url="https://csw.example")
    names = [name for name, _ in secure.headers]
    first = names.index("Content-Security-Policy")
    assert names[first:first + 6] == [*SECURITY_HEADER_NAMES, "Strict-Transport-Security"]


def test_a_view_s_own_security_header_is_kept(client) -> None:  # type: ignore[no-untyped-def]
    app = client.application
    add_headers = next(hook for hook in app.after_request_funcs[None]
                       if getattr(hook, "__name__", "") == "security_headers")
    with app.test_request_context("/", base_url="https://csw.example"):
        response = add_headers(Response("framed", headers={"x-frame-options": "SAMEORIGIN",
                                                           "Strict-Transport-Security": "max-age=60"}))
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Strict-Transport-Security") == ["max-age=60"]
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.fixture()
def limited_app(database_url: str, tmp_path: Path) -> Flask:
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="3 per minute", login_rate_limit="3 per minute")
    return create_app(settings)


def test_api_clients_over_their_rate_get_429_with_retry_after(clean_app: Flask, limited_app: Flask) -> None:
    client = limited_app.test_client()
    answers = [client.get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json")) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.get_json()["code"] == "RATE_LIMITED"
    assert "3 per 1 minute" in refused.get_json()["message"]
    assert int(refused.headers["Retry-After"]) > 0
    other = client.get("/api/v1/declarations", headers=auth(OTHER_KEY, "application/json"))
    assert other.status_code == 200, "each client has its own allowance"
    assert client.get("/healthz").status_code == 200, "pages and probes are not API-limited"


def test_each_api_route_has_its_own_allowance_per_client(clean_app: Flask, limited_app: Flask) -> None:
    """The allowance is counted per client and route: a client that used up its allowance on
    one route is still answered on another, and is refused there too once past it."""
    client = limited_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json")).status_code == 200
    assert client.get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json")).status_code == 429
    answers = [client.get("/api/v1/declarations/NOT-A-REFERENCE", headers=auth(TRADER_KEY, "application/json"))
               for _ in range(4)]
    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[-1].get_json()["code"] == "RATE_LIMITED"
    assert answers[-1].headers["X-Conversation-ID"] == answers[-1].get_json()["conversation_id"]


def test_an_unreachable_rate_limit_store_does_not_stop_the_api(clean_app: Flask, database_url: str,
                                                               tmp_path: Path) -> None:
    """Counters in a Redis that is down: the failure is logged and requests are still served
    (the limiter swallows storage errors rather than refusing every client)."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="1 per minute",
                                 rate_limit_storage="redis://127.0.0.1:9/0")
    client = create_app(settings).test_client()
    answers = [client.get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json")) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]



def test_a_fresh_bogus_key_per_request_is_counted_per_address(clean_app: Flask, limited_app: Flask) -> None:
    """Unknown keys and no key at all are counted against the client's address: inventing a new
    key for each request does not get round the limit, and a real key keeps its own allowance."""
    client = limited_app.test_client()
    answers = [client.get("/api/v1/declarations", headers=auth(f"csw_bogus_{n:024d}", "application/json"))
               for n in range(3)]
    answers.append(client.get("/api/v1/declarations", headers={"Accept": "application/json"}))
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].get_json()["code"] == "RATE_LIMITED"
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert client.get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json")).status_code == 200
    elsewhere = client.get("/api/v1/declarations", headers=auth("csw_bogus_elsewhere", "application/json"),
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.status_code == 401, "another address has its own allowance"


def test_failed_keys_are_counted_per_client_address_behind_a_trusted_proxy(
        clean_app: Flask, database_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="2 per minute", trusted_proxies=1)
    client = create_app(settings).test_client()

    def bogus(n: int, forwarded_for: str) -> int:
        return client.get("/api/v1/declarations", headers={
            **auth(f"csw_bogus_{n}", "application/json"), "X-Forwarded-For": forwarded_for}).status_code

    assert [bogus(n, "198.51.100.1") for n in range(3)] == [401, 401, 429]
    assert bogus(9, "198.51.100.2") == 401, "the proxy's other clients are not held up"


def test_password_guessing_is_throttled_per_address_and_username(clean_app: Flask, limited_app: Flask) -> None:
    """After three wrong passwords a minute the sign-in page answers 429 with Retry-After and
    says when to try again; another username is not held up by it."""
    from app.users.service import create_user
    from tests.integration.test_officer_app import csrf_token

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_user(session, "guarded", "officer", "the-right-password")
    browser = limited_app.test_client()
    token = csrf_token(browser.get("/login").text)
    answers = [browser.post("/login", data={"username": "guarded", "password": f"guess-{n}", "csrf_token": token})
               for n in range(4)]
    assert [a.status_code for a in answers] == [303, 303, 303, 429]  # refused: back to the sign-in page
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "too many sign-in attempts" in answers[-1].text
    assert browser.get("/login").status_code == 401, "showing the page is not limited (it says the last refusal)"
    other = browser.post("/login", data={"username": "someone-else", "password": "x", "csrf_token": token},
                         follow_redirects=True)
    assert other.status_code == 401


def test_gunicorn_workers_share_one_allowance_through_redis(clean_app: Flask, database_url: str, tmp_path: Path,
                                                            redis_url: str) -> None:
    """With several workers or hosts, counters live in Redis (``CSW_RATE_LIMIT_STORAGE``): two
    app instances, as two workers would be, let a client through 3 times a minute in all."""
    settings = Settings.from_env(database_url=database_url, instance_dir=tmp_path, secret_key="test",
                                 log_level="WARNING", api_rate_limit="3 per minute", rate_limit_storage=redis_url)
    workers = [create_app(settings).test_client() for _ in range(2)]
    answers = [workers[n % 2].get("/api/v1/declarations", headers=auth(TRADER_KEY, "application/json"))
               for n in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_keys_and_passwords_never_reach_the_logs(clean_app: Flask) -> None:
    """Every log line written while clients use good and bad keys and people sign in with
    right and wrong passwords, at DEBUG, by the service's loggers and by any library logging
    through the root logger: none carries the key or the password."""
    import io
    import logging

    from app.logs import JsonFormatter
    from app.users.service import create_user
    from tests.factories import declaration_xml
    from tests.integration.test_officer_app import csrf_token

    with clean_app.extensions["csw"].sessions() as session, session.begin():
        create_user(session, "logged", "officer", "secret-password-123")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("csw"), logging.getLogger()]  # csw does not propagate to the root
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    wrong_key = "csw_not_a_real_key_but_secret_0000"
    try:
        client = clean_app.test_client()
        assert client.post("/api/v1/declarations", data=declaration_xml(lrn="LOG-1"),
                           headers=auth(TRADER_KEY)).status_code == 202
        assert client.get("/api/v1/declarations", headers=auth(wrong_key)).status_code == 401
        browser = clean_app.test_client()
        token = csrf_token(browser.get("/login").text)
        for password in ("wrong-password-456", "secret-password-123"):
            browser.post("/login", data={"username": "logged", "password": password, "csrf_token": token},
                         follow_redirects=True)
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
    written = stream.getvalue()
    assert '"path": "/login"' in written and '"status": 401' in written, "the requests were logged"
    for secret in (TRADER_KEY, wrong_key, "wrong-password-456", "secret-password-123"):
        assert secret not in written
