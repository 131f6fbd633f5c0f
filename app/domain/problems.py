"""Rejections: why a request was refused, in a form every channel can render."""
from __future__ import annotations

from pathlib import Path

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


class RulesDataError(Exception):
    """Anything wrong in ``rules/``: names the file, the line and the reason, and stops start-up.
    ``str()`` is ``file:line: reason``; ``line`` 0 means the file as a whole."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        super().__init__(f"{path}:{line if line is not None else 1}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason
