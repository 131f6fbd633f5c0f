"""Post/redirect/get for refused forms. A form POST never answers with a page: a change
done redirects to where it shows, and a refusal keeps what the person typed and what was
wrong in the session and redirects (303) back to the form's page, which shows both once and
answers with the refusal's status (409, 422). Back and reload then never meet "Confirm Form
Resubmission", and reloading never sends the form again.

The session is a signed cookie (about 4 KB): values are cut to ``MAX_VALUE`` characters,
passwords, files and the CSRF token are never kept.
"""
from __future__ import annotations

from typing import Any

from flask import request, session
from werkzeug.datastructures import MultiDict
from werkzeug.utils import redirect
from werkzeug.wrappers import Response
from wtforms import Form
from wtforms.fields import FileField, PasswordField

PREFIX = "kept:"
MAX_VALUE = 500
NOT_KEPT = frozenset({"csrf_token"})


def see_other(location: str) -> Response:
    """The redirect after a POST (303: the browser GETs the page, whatever the POST was)."""
    return redirect(location, code=303)


def keep(page: str, status: int, **kept: Any) -> None:
    """Keep ``kept`` (JSON-able: strings, numbers, lists, dicts) for the next GET of ``page``."""
    session[PREFIX + page] = {"status": status, **kept}


def kept(page: str) -> dict[str, Any] | None:
    """What a refusal kept for ``page``, once (taken from the session), on a GET only."""
    if request.method != "GET":
        return None
    found = session.pop(PREFIX + page, None)
    return found if isinstance(found, dict) else None


def form_values(form: Form) -> dict[str, str]:
    """The form's values as typed (the raw text), without passwords, files or the CSRF token."""
    values: dict[str, str] = {}
    for field in form:
        if field.name in NOT_KEPT or isinstance(field, PasswordField | FileField):
            continue
        raw = field.raw_data[0] if field.raw_data else field.data
        values[field.name] = "" if raw is None else str(raw)[:MAX_VALUE]
    return values


def form_errors(form: Form) -> dict[str, list[str]]:
    """The form's errors by field, as text."""
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()
            if isinstance(messages, list)}


def keep_form(page: str, form: Form, status: int = 422, errors: dict[str, list[str]] | None = None,
              **more: Any) -> None:
    """Keep ``form``'s values and errors (its own, or ``errors``) for the next GET of ``page``."""
    keep(page, status, values=form_values(form), errors=errors if errors is not None else form_errors(form), **more)


def restore_form(form: Form, found: dict[str, Any] | None) -> int:
    """Put kept values and errors back on a freshly built ``form``; the page's status (200
    when nothing was kept)."""
    if not found:
        return 200
    values = {name: str(value) for name, value in (found.get("values") or {}).items() if name not in NOT_KEPT}
    if values:
        form.process(formdata=MultiDict(values))  # as if typed again: the fields show the raw text
    for name, messages in (found.get("errors") or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(messages)
    status = found.get("status")
    return status if isinstance(status, int) else 422
