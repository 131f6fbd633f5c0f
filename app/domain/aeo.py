"""What the rest of the system knows of the AEO Programme: how operators are identified, and
what a party's registration standing says (``app.aeo.service.AeoStanding`` is one)."""
from __future__ import annotations

import re
from typing import Protocol

HK_COUNTRY = "HK"
FOREIGN_OPERATOR_ID = re.compile(r"[A-Z]{2}[A-Z0-9]{4,33}")
"""A partner's AEO: ISO 3166 alpha-2 code + the partner programme's id (PartyIDType)."""


class AeoStandingView(Protocol):
    """What the checks and benefits read of a party's AEO registration (read-only, so a
    frozen dataclass such as ``AeoStanding`` is one)."""

    @property
    def operator_id(self) -> str: ...
    @property
    def tier(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def recognised(self) -> bool: ...
    @property
    def reason(self) -> str: ...
