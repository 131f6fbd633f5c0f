"""Web security that applies to every route: response headers, session cookies and rate limits.

Installed last in ``create_app`` so it covers every blueprint, including ones added later:
the API rate limit keys on the caller's API key (hashed) for any ``/api/`` path when the key
is a live client's, and on the client's address otherwise (no key, an unknown or revoked one), the pages
get a strict Content-Security-Policy (no inline script), and HSTS is sent only when the
request arrived over TLS (directly or via a proxy that says so in X-Forwarded-Proto).
"""
from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import Flask, Request, Response, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import MemoryStorage
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import Settings
from app.domain.actors import Caller
from app.users.clients import authenticate
from app.web.context import db, services
from app.db.session import reading

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"
#: The headers every answer carries unless its view set its own (name in lower case, name, value).
SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
))


class SweepingMemoryStorage(MemoryStorage):
    """limits' in-process storage without its timer thread: ``memory://`` starts a
    ``threading.Timer`` on every hit made while none is alive (a thread start on most API
    requests, ~1 ms of a loaded worker's time, most of it waiting for the new thread to run).
    Counters expire when read whatever sweeps them; the sweep only frees memory, so here it
    runs inline, at most once a second."""

    STORAGE_SCHEME = ["csw-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept_at = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (replaces the parent's private method)
        now = time.monotonic()
        if now - self._swept_at >= self.SWEEP_SECONDS:
            self._swept_at = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def limiter_storage_uri(configured: str) -> str:
    """The configured storage, with ``memory://`` served by ``SweepingMemoryStorage``."""
    return "csw-memory://" if configured == "memory://" else configured


def _bearer_key() -> str:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def bearer_caller() -> Caller | None:
    """The live API client behind the request's bearer key, or None (no key, an unknown or a
    revoked one). Looked up once per request: the limiter asks first, the view then reuses it."""
    if "bearer_caller" not in g:
        key = _bearer_key()
        with reading():  # a read: on SQLite a deferred BEGIN, not the write lock outside the write gate
            g.bearer_caller = authenticate(db(), key, services().api_keys) if key else None
    caller: Caller | None = g.bearer_caller
    return caller


def rate_limit_key() -> str:
    """A live client's key, hashed (so every worker and host counts one client together, and keys
    never reach the limiter's storage in clear); else the client's address (after ProxyFix, so
    ``CSW_TRUSTED_PROXIES`` decides whose it is). Keying on any key sent would let a caller
    inventing a new key for each request go unlimited: requests without a valid key, failed
    sign-ins included, all count against the address they come from."""
    if bearer_caller() is not None:
        return "key:" + hashlib.sha256(_bearer_key().encode()).hexdigest()
    return "addr:" + get_remote_address()


class ApiRateLimited(TooManyRequests):
    """A client over its API allowance (``CSW_API_RATE_LIMIT``): described as Flask-Limiter
    describes a breach (the limit, e.g. ``100 per 1 second``); carries the counter it broke."""

    def __init__(self, breached: RequestLimit) -> None:
        super().__init__(description=str(breached.limit))
        self.breached = breached


class CswLimiter(Limiter):
    """Flask-Limiter for the per-view limits (the sign-in throttle), with the API's one limit
    counted directly on every ``/api/`` request that reaches a route.

    Why: Flask-Limiter resolves each request's limits anew (the view's qualified name, its
    decorations, blueprint and route exemptions, meta limits, a request context of its own),
    ~0.12 ms of CPU per API request, to arrive at the same single limit for every API route.
    Here that limit is parsed once and counted in the same storage under the same counter
    (the client's key or address, and the route, as Flask-Limiter's per-route default limits
    are), with the same 429 description, Retry-After and log line; a storage failure is logged
    and the request served (``swallow_errors``, as configured here)."""

    def __init__(self, api_limit: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api_limits = sorted(parse_many(api_limit))

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and callable_name is None and request.path.startswith("/api/"):
            self._count_api_request()
        else:
            super()._check_request_limit(callable_name, in_middleware)

    def _count_api_request(self) -> None:
        """Count the request against its client's allowance on its route; 429 past it. A
        request that matched no route (404, 405) is not counted, as before."""
        route = request.endpoint
        if not route or not self.enabled:
            return
        try:
            key = rate_limit_key()
            for limit in self._api_limits:
                if not self.limiter.hit(limit, key, route):
                    self.logger.info("ratelimit %s (%s) exceeded at endpoint: %s", limit, key, route)
                    raise ApiRateLimited(RequestLimit(self, limit, [key, route], True, False))
        except ApiRateLimited:
            raise
        except Exception:  # noqa: BLE001 - the storage is down: serve, as swallow_errors does
            self.logger.exception("Failed to rate limit. Swallowing error")


def retry_after_seconds(limiter: Limiter, refusal: HTTPException | None = None) -> int:
    """Seconds until the breached limit's window lets this client in again (at least 1)."""
    limit = refusal.breached if isinstance(refusal, ApiRateLimited) else limiter.current_limit
    return max(1, limit.reset_at - int(time.time())) if limit is not None else 1


def sign_in_key() -> str:
    """The address and the username tried: guessing one account's password from one place is
    slowed down without locking the real user out from everywhere else."""
    username = (request.form.get("username") or "").strip().lower()[:60]
    return f"sign-in:{get_remote_address()}:{hashlib.sha256(username.encode()).hexdigest()[:16]}"


def throttle_sign_in(app: Flask, limiter: Limiter, limit: str) -> None:
    """Password guesses on ``POST /login`` are limited per address and username (429 with
    Retry-After, the sign-in page says when to try again); showing the page is not."""
    endpoint = "auth.login"
    if endpoint in app.view_functions:
        # flask_limiter types the wrapper as returning the view's own result (R), which for Flask's
        # sync-or-async RouteCallable union infers a mixed callable; the wrapper is sync (ensure_sync).
        app.view_functions[endpoint] = limiter.limit(limit, key_func=sign_in_key, methods=["POST"])(  # type: ignore[assignment]
            app.view_functions[endpoint])


class PagesOnlySessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions for the web pages only. API clients authenticate with a bearer key
    on every request and never carry a session; opening and saving one cost ~7 % of a small API
    request. On ``/api/`` Flask gets a null session, which refuses writes."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith("/api/"):
            return None
        return super().open_session(app, request)


def init_security(app: Flask, settings: Settings) -> Limiter:
    """Headers, cookie flags and the limiter; returns the limiter for per-view limits (login)."""
    if settings.trusted_proxies:
        # Flask's documented way to add WSGI middleware; its types declare wsgi_app a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    app.session_interface = PagesOnlySessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
    )
    limiter = CswLimiter(
        settings.api_rate_limit,
        key_func=rate_limit_key,
        app=app,
        storage_uri=limiter_storage_uri(settings.rate_limit_storage),
        headers_enabled=False,
        strategy="fixed-window",
        swallow_errors=True,
    )

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Each header added unless the view set its own: the answer's names are read once
        (``setdefault`` scanned them all again for each of the five)."""
        headers = response.headers
        present = set(headers.keys(lower=True))
        for lower, name, value in SECURITY_HEADERS:
            if lower not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", HSTS)
        return response

    return limiter
