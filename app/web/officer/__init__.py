"""The officers' web application: case queue, case view, decisions, supervisor dashboard.

``install`` adds CSRF protection to every form (never to the bearer-key ``/api/`` routes,
whoever registers them), Flask-Babel (English / Traditional Chinese, Hong Kong time) and the
pages themselves.
"""
from __future__ import annotations

from flask import Flask, request, session, url_for
from flask_babel import Babel, get_locale
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from app.users.service import LOCALES

csrf = CSRFProtect()
babel = Babel()
HONG_KONG_ZONE = "Asia/Hong_Kong"


def _is_api_request() -> bool:
    """Requests to the bearer-key API: every blueprint mounted under ``/api/`` (whoever adds
    it, whenever) serves only paths that start with ``/api/``."""
    return request.path.startswith("/api/")


def select_locale() -> str:
    """The signed-in user's language, else the one chosen in this browser session, else the
    browser's preference."""
    if current_user and current_user.is_authenticated:
        return current_user.locale if current_user.locale in LOCALES else "en"
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh-Hant", "zh-TW", "zh-HK", "zh"], default="en")
    return "en" if best == "en" else "zh_Hant"


def install(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", HONG_KONG_ZONE)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: HONG_KONG_ZONE)

    @app.context_processor
    def page_context() -> dict[str, object]:
        def endpoint_url(endpoint: str) -> str | None:
            """A link to another capability's page, or None when that page is not installed."""
            return url_for(endpoint) if endpoint in app.view_functions else None

        return {"current_locale": str(get_locale() or "en"), "endpoint_url": endpoint_url}

    @app.before_request
    def protect_forms() -> None:
        """Every state-changing browser request carries the CSRF token; API clients
        authenticate with bearer keys (no cookies), so CSRF does not apply to them."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and not _is_api_request():
            csrf.protect()

    from app.web import filters  # noqa: PLC0415 - install() loads what it registers
    from app.web.officer import cargo_lines, manifests, search, views  # noqa: PLC0415,F401 - they add pages to the blueprint

    filters.install(app)
    app.register_blueprint(views.bp)
