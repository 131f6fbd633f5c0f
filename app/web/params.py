"""The one place request values become Python values: query and form integers, ISO 8601
moments, JSON bodies and integer path ids.

Every refusal is a ``Rejection`` naming the parameter and the rule (400 INVALID_PARAMETER, or
404 NOT_FOUND for an id or page beyond what can exist), rendered by the application's error
handler in the service's usual envelope, so crafted input never reaches ``int()``, the
database or the JSON decoder's recursion in a form that raises something else.

- Integers are ASCII digits only (``str.isdigit()`` accepts '²' and '٣', which ``int()``
  refuses or reads), at most as many digits as the maximum has (so never near ``int()``'s
  4,300-digit limit).
- Path ids use the ``<id:name>`` converter: 1 to 2**31 - 1, the range of an integer column
  on PostgreSQL (SQLite's is wider); anything else matches no route (404).
- Moments need a time zone and must stay representable in UTC (``0001-01-01T00:00:00+01:00``
  is not).
- JSON bodies nested deeper than the decoder's recursion limit are refused, not crashed on.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.routing import BaseConverter, ValidationError

from app.web.body import request_body
from app.domain.problems import Problem, Rejection

MAX_ID = 2**31 - 1


def invalid(name: str, message: str, rule: str, got: object) -> Rejection:
    return Rejection("INVALID_PARAMETER", message, [Problem(message=f"got {str(got)[:40]!r}", path=name, rule=rule)])


def whole_number(raw: str, name: str, minimum: int, maximum: int, beyond: str = "INVALID_PARAMETER") -> int:
    """``raw`` as an int from ``minimum`` to ``maximum``. Not ASCII digits: 400; out of range:
    ``beyond`` (INVALID_PARAMETER, or NOT_FOUND for a page or id that cannot exist)."""
    if not (raw.isascii() and raw.isdigit()):
        raise invalid(name, f"{name} must be a whole number from {minimum} to {maximum}", "integer", raw)
    value = int(raw) if len(raw) <= len(str(maximum)) else maximum + 1
    if not minimum <= value <= maximum:
        rejection = invalid(name, f"{name} must be a whole number from {minimum} to {maximum}", "range", raw)
        rejection.code = beyond
        raise rejection
    return value


def query_int(name: str, default: int, maximum: int, minimum: int = 1, beyond: str = "INVALID_PARAMETER") -> int:
    """A query-string integer (``?page=2``); ``default`` when absent."""
    raw = request.args.get(name)
    return default if raw is None else whole_number(raw, name, minimum, maximum, beyond)


def form_int(name: str, default: int | None, maximum: int, minimum: int = 0) -> int | None:
    """A form field's integer; ``default`` when absent or empty."""
    raw = request.form.get(name)
    return default if not raw else whole_number(raw, name, minimum, maximum)


def moment(raw: object, name: str) -> datetime:
    """An ISO 8601 date-time with a time zone, representable in UTC."""
    message = f"{name} must be an ISO 8601 date-time with a time zone, e.g. 2026-11-21T08:00:00Z"
    if not isinstance(raw, str) or len(raw) > 40:
        raise invalid(name, message, "iso8601", raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(name, message, "iso8601", raw) from None
    if parsed.tzinfo is None:
        raise invalid(name, f"{name} needs a time zone (Z or +08:00)", "iso8601", raw)
    try:
        parsed.astimezone(timezone.utc)
    except OverflowError:
        raise invalid(name, f"{name} is outside the dates this service can store", "range", raw) from None
    return parsed


def query_moment(name: str) -> datetime | None:
    """A query-string moment; a '+' of the offset arrives as a space when not percent-encoded."""
    raw = request.args.get(name)
    return moment(raw.replace(" ", "+"), name) if raw else None


def json_value(body: bytes) -> Any:
    """The body's JSON value (``None`` for an empty body)."""
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise Rejection("INVALID_PARAMETER", "the body is not valid JSON (or nested too deeply)",
                        [Problem(message="not JSON", path="$", rule="json")]) from None


def json_object(what: str = "a JSON object") -> dict[str, Any]:
    """The request's body, which must be ``application/json`` holding an object."""
    if request.mimetype != "application/json":
        raise Rejection("UNSUPPORTED_MEDIA_TYPE",
                        f"send {what} as Content-Type: application/json (got {request.mimetype or 'none'})")
    body = json_value(request_body())
    if not isinstance(body, dict):
        raise Rejection("INVALID_PARAMETER", "the body must be a JSON object",
                        [Problem(message=f"got {type(body).__name__}", path="$", rule="json-object")])
    return body


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/officer/?page=2``), else None. Every redirect
    to a requested place (``next``) passes here. Browsers drop tabs and newlines from a URL and
    read a backslash as a slash, so ``/<TAB>/evil.example`` or ``/\\evil.example`` would leave
    the site: any control character, whitespace or backslash is refused, not removed."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


class IdConverter(BaseConverter):
    """``<id:name>``: a row id, ASCII digits from 1 to ``MAX_ID``; anything else is no route (404)."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


def install(app: Flask) -> None:
    """Register the ``id`` converter (before any blueprint whose routes use it)."""
    app.url_map.converters["id"] = IdConverter
