"""Who acts on the system: an API client bound to a party, an officer, or the system itself."""
from __future__ import annotations

from dataclasses import dataclass

CUSTOMS_ROLES = frozenset({"admin", "partner"})  # API clients of customs administrations, not of traders


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is acting: an API client (bound to a party), an officer, or the system."""

    actor: str
    party_id: int | None = None
    party_identifier: str | None = None
    role: str = "trader"
    client_id: int | None = None

    @property
    def is_customs(self) -> bool:
        """A client of this or the partner customs administration (sees what traders may not)."""
        return self.role in CUSTOMS_ROLES
