"""Findings: what the business rules say about a declaration."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class Severity(str, enum.Enum):
    """``reject``: the declaration is refused; ``hold``: an officer must look;
    ``warn``: recorded and shown to the trader; ``info``: a fact the decision used (e.g. a
    recognised AEO), recorded so the decision can be explained."""

    REJECT = "reject"
    HOLD = "hold"
    WARN = "warn"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    path: str | None
    message_en: str
    message_zh: str
    charge: Decimal | None = None  # HKD the finding adds to the charges (a late-lodgement penalty)
