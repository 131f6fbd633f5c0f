"""The one clock: every use case asks it for "now", so tests and replays can reason about time."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """The current moment, always timezone-aware UTC."""
    return datetime.now(timezone.utc)
