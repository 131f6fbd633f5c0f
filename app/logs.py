"""Structured (JSON lines) logging; every record carries the request's conversation id."""
from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import datetime, timezone

CONVERSATION: ContextVar[str | None] = ContextVar("csw_conversation", default=None)
"""The conversation id of the request being served (set by the web layer), for every record."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        conversation_id = CONVERSATION.get()
        if conversation_id is not None:
            entry["conversation_id"] = conversation_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger("csw")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
