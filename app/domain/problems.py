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


def lrn_used(lrn: str, what: str, what_zh: str, existing_id: str, path: str, rule: str, advice: str = "") -> Rejection:
    """409 ``DUPLICATE_LRN``: a different document under a local reference number its sender
    already used for ``what`` ``existing_id`` (an identical re-send is answered as a replay,
    not with this). Names the element and the rule, in both languages."""
    return Rejection(
        "DUPLICATE_LRN",
        f"local reference {lrn} was already used for {what} {existing_id} with a different document{advice}",
        [Problem(message=f"LRN already used by {what} {existing_id}",
                 message_zh=f"本地參考編號 {lrn} 已用於{what_zh} {existing_id}（文件內容不同）",
                 path=path, rule=rule)],
        details={"existing_declaration_id": existing_id},
    )


class RulesDataError(Exception):
    """Anything wrong in ``rules/``: names the file, the line and the reason, and stops start-up.
    ``str()`` is ``file:line: reason``; ``line`` 0 means the file as a whole."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        super().__init__(f"{path}:{line if line is not None else 1}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason
