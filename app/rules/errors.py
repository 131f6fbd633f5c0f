"""One error for everything wrong in ``rules/``: it names the file, the line and the reason,
and stops start-up (``csw serve`` prints it; the app factory raises it)."""
from __future__ import annotations

from pathlib import Path


class RulesDataError(Exception):
    """``str()`` is ``file:line: reason``; ``line`` 0 means the file as a whole."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        super().__init__(f"{path}:{line if line is not None else 1}: {reason}")
        self.path = Path(path)
        self.line = line
        self.reason = reason
