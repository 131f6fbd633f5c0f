"""Officers' sign-in: Flask-Login sessions, the login/logout pages, and ``role_required``.

Every page of the officers' application is guarded by ``role_required(*roles)``: anonymous
visitors are sent to the login page, signed-in users without the role get 403.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, Flask, abort, flash, redirect, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user, logout_user
from app.web.form_text import TranslatedForm
from app.web.kept import keep_form, kept, restore_form, see_other
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.db.case_models import User
from app.users import service as users
from app.web import params
from app.web.context import db, unit_of_work
from app.db.session import reading

P = ParamSpec("P")
R = TypeVar("R")

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.session_protection = "strong"
login_manager.login_message = _l("Please sign in to open this page.")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The signed-in user for this request; None (signed out) when deactivated or deleted, or
    when the session's token (``User.get_id``) is no longer the account's: signed out,
    password reset, deactivated."""
    number, _sep, token = user_id.partition(":")
    if not token or not (number.isascii() and number.isdigit() and len(number) <= 10) or int(number) > params.MAX_ID:
        return None
    with reading():  # a read: on SQLite a deferred BEGIN, not the write lock outside the write gate
        user = db().get(User, int(number))
    # End the look-up's transaction at once: on SQLite a transaction holds the write lock,
    # and a page that writes must take the write gate before its own transaction begins.
    unit_of_work().end_reads()
    if user is None or not user.active or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def install(app: Flask) -> None:
    """Attach the login manager and the sign-in pages to the application."""
    login_manager.init_app(app)
    app.register_blueprint(bp)


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Guard a view: sign-in required, and the user's role must be one of ``roles``."""
    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403, description=f"this page needs the role {' or '.join(roles)}")
            return view(*args, **kwargs)
        return guarded
    return decorate


class LoginForm(TranslatedForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only local paths: an attacker's link must not bounce a user off to another site."""
    return params.local_path(target) or url_for("officer.queue")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    """Post/redirect/get: a refused sign-in goes back to the sign-in page (303) with the
    username kept and the problem said there (answered 401 or 400); the password is never kept.
    Reloading that page never sends the password again."""
    form = LoginForm()
    if request.method == "POST":
        if form.validate_on_submit():
            user = users.find_user(db(), form.username.data or "")
            unit_of_work().end_reads()  # the slow password check runs outside any transaction
            if users.check_password(user, form.password.data or ""):
                assert user is not None
                uow = unit_of_work().write_lock()
                users.record_sign_in(user, form.password.data or "")
                uow.commit()
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            keep_form("auth.login", form, 401, errors={"password": [_("unknown username or wrong password")]})
        else:
            keep_form("auth.login", form, 400)
        return see_other(request.full_path.rstrip("?"))
    status = restore_form(form, kept("auth.login"))
    return render_template("auth/login.html", form=form), status


def throttled(retry_after: int) -> Response:
    """Too many sign-in attempts: the sign-in page again, saying when to retry (429)."""
    form = LoginForm()
    form.password.errors = [_("too many sign-in attempts; try again in %(seconds)d seconds", seconds=retry_after)]
    response = make_response(render_template("auth/login.html", form=form), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.post("/logout")
def logout() -> Response:
    if current_user.is_authenticated:  # the session cookie, even if kept, no longer signs anyone in
        uow = unit_of_work().write_lock()
        users.end_sessions(current_user._get_current_object())
        uow.commit()
    logout_user()
    flash(_("Signed out."))
    return redirect(url_for("auth.login"))
