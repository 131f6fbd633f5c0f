"""Rejections: why a request was refused, in a form every channel can render."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One specific thing wrong with the input: where (path, line, column), which rule, why."""

    message: str
    path: str | None = None
    rule: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str | None = None
    message_zh: str | None = None


@dataclass(slots=True)
class Rejection(Exception):
    """A refusal with a stable machine-readable ``code``.

    The web layer maps codes to HTTP statuses (``app.web.envelope.STATUS_BY_CODE``);
    services and intake only say what is wrong.
    """

    code: str
    message: str
    problems: list[Problem] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
