"""Customs Single Window. ``create_app`` wires settings, database, intake and blueprints."""
from __future__ import annotations

import logging
import time
import uuid

from flask import Flask, Response, g, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from app.config import Settings
from app.bootstrap import build
from app.db.session import reading
from app.domain.problems import Rejection
from app.logs import CONVERSATION, configure_logging
from app.web.body import refuse_what_the_server_refused
from app.web.context import close_session
from app.web.envelope import error_response
from app.web.security import init_security, retry_after_seconds, throttle_sign_in
from app.web.metrics import DECLARATION_OUTCOMES, count_request

log = logging.getLogger("csw.web")

_HTTP_CODES = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "BODY_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    app = Flask(__name__, template_folder="web/templates")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        CSW_SETTINGS=settings,
    )
    app.extensions["csw"] = build(settings)
    from app.web import params  # noqa: PLC0415 - the factory loads the blueprints it registers

    params.install(app)  # the <id:...> route converter, before the blueprints using it

    from app.web import aeo_api, api, site  # noqa: PLC0415 - the factory loads the blueprints it registers

    app.register_blueprint(site.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(aeo_api.bp)
    from app.web import transit_api  # noqa: PLC0415 - the factory loads the blueprints it registers

    transit_api.init_app(app)  # route network (rules/transit) checked at start-up; /api/v1/elock, /api/v1/journeys
    from app.web import revenue_api  # noqa: PLC0415 - the factory loads the blueprints it registers

    revenue_api.init_app(app)  # /api/v1/declarations/<id>/duty, payments, receipts, the duty account
    app.teardown_appcontext(close_session)
    _install_request_hooks(app)
    _install_error_handlers(app)
    from app.web import auth, officer  # noqa: PLC0415 - the factory loads the blueprints it registers

    auth.install(app)  # Flask-Login sessions, /login and /logout
    officer.install(app)  # CSRF on forms (never on /api/ blueprints), Babel (en, zh_Hant; HKT), /officer
    from app.web import portal, portal_cargo, portal_manifests  # noqa: PLC0415,F401 - the manifest pages join the portal's blueprint

    portal.install(app)  # /trader: the traders' portal (after officer: reuses its CSRF and Babel)
    from app.web import admin_routing, cargo_api, manifests_api, notifications_api, trips_api  # noqa: PLC0415

    trips_api.init_app(app)  # routing rules loaded at start-up; /api/v1/trips, /api/v1/notifications
    notifications_api.init_app(app)  # /api/v1/callback, /api/v1/lifecycle-notifications, document requests
    cargo_api.init_app(app)  # /api/v1/cargo: advance cargo information (road)
    manifests_api.init_app(app)  # /api/v1/manifests: sea and air manifests
    admin_routing.install(app)  # /admin/routing/subscribers (admin role)
    app.extensions["csw_limiter"] = init_security(app, settings)
    throttle_sign_in(app, app.extensions["csw_limiter"], settings.login_rate_limit)
    return app


def _install_request_hooks(app: Flask) -> None:
    @app.before_request
    def assign_conversation() -> None:
        """Every request gets its conversation id before any check, so even a refusal has one."""
        request_g = g._get_current_object()  # one proxy look-up for the five names set here
        request_g.conversation_id = conversation_id = str(uuid.uuid4())
        request_g.conversation_token = CONVERSATION.set(conversation_id)  # every log record of the request names it
        request_g.started = time.perf_counter()
        # Every request reads without SQLite's write lock: what it writes, it writes through its
        # unit of work, whose transaction begins (BEGIN IMMEDIATE) once it holds the write gate.
        request_g.reading = reading()
        request_g.reading.__enter__()
        refuse_what_the_server_refused()

    @app.teardown_request
    def stop_reading(_exc: BaseException | None = None) -> None:
        token = g.pop("conversation_token", None)
        if token is not None:
            CONVERSATION.reset(token)
        context = g.pop("reading", None)
        if context is not None:
            context.__exit__(None, None, None)

    @app.after_request
    def finish(response: Response) -> Response:
        request_g = g._get_current_object()
        served = request._get_current_object()  # type: ignore[attr-defined]
        conversation_id = request_g.get("conversation_id")
        if conversation_id:
            response.headers["X-Conversation-ID"] = conversation_id
        route = served.url_rule.rule if served.url_rule is not None else "unmatched"
        elapsed = time.perf_counter() - request_g.get("started", time.perf_counter())
        count_request(route, served.method, response.status_code, elapsed)
        if log.isEnabledFor(logging.INFO):  # the record's fields are built only when it is written
            log.info("request", extra={"fields": {
                "method": served.method, "path": served.path, "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2), "actor": request_g.get("actor"),
            }})
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(Rejection)
    def rejected(rejection: Rejection) -> Response:
        if request.path.startswith("/api/v1/declarations") and request.method == "POST":
            DECLARATION_OUTCOMES.labels(f"rejected:{rejection.code}").inc()
        headers = {"WWW-Authenticate": 'Bearer realm="csw"'} if rejection.code == "UNAUTHORIZED" else None
        return error_response(rejection, g.get("conversation_id"), headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> WerkzeugResponse:
        code = _HTTP_CODES.get(exc.code or 400, "BAD_REQUEST")
        message = exc.description or exc.name
        if exc.code == 413:
            limit = app.config["MAX_CONTENT_LENGTH"]
            message = f"the request body exceeds the limit of {limit} bytes"
        # The exception's own headers (Allow on a 405, WWW-Authenticate, Retry-After), but not its
        # Content-Type: the body is the envelope.
        headers: dict[str, str] | None = {
            name: value for name, value in exc.get_headers() if name.lower() != "content-type"} or None
        if exc.code == 429:
            message = f"too many requests: this client's limit is {exc.description}; retry later"
            retry_after = str(retry_after_seconds(app.extensions["csw_limiter"], exc))
            headers = {**(headers or {}), "Retry-After": retry_after}
            if request.endpoint == "auth.login":
                from app.web.auth import throttled  # noqa: PLC0415 - a blueprint module, loaded by create_app

                return throttled(int(retry_after))
        return error_response(Rejection(code, message), g.get("conversation_id"), headers)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError) -> Response:
        """Lost connection, database restarting, or SQLite busy past its timeout: retryable."""
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        return error_response(
            Rejection("DATABASE_UNAVAILABLE", "the database is unavailable; nothing was stored, retry shortly"),
            g.get("conversation_id"), {"Retry-After": "5"},
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(
            Rejection("INTERNAL_ERROR", "an internal error occurred; quote the conversation id to support"),
            g.get("conversation_id"),
        )
