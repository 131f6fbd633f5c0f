"""The outcome of assessing a declaration: findings, charges, AEO benefits, and what refuses it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from app.domain.charges import Assessment
from app.domain.findings import Finding, Severity
from app.domain.problems import Problem, Rejection


@dataclass(frozen=True)
class Assessed:
    findings: tuple[Finding, ...]
    charges: Assessment
    rules_version: str
    aeo: dict[str, Any]

    @property
    def rejected(self) -> bool:
        return any(finding.severity is Severity.REJECT for finding in self.findings)


def refuse_if_rejected(assessed: Assessed) -> None:
    """A ``reject`` finding refuses the declaration, listing every finding (all severities)."""
    if not assessed.rejected:
        return
    count = sum(1 for f in assessed.findings if f.severity is Severity.REJECT)
    raise Rejection(
        "RULES_REJECTED",
        f"the declaration breaks {count} business rule{'s' if count > 1 else ''}",
        [Problem(message=f.message_en, message_zh=f.message_zh, path=f.path, rule=f.code,
                 severity=f.severity.value) for f in assessed.findings],
        details={"rules_version": assessed.rules_version},
    )


def charges_record(charges: Assessment) -> dict[str, Any]:
    """The assessment as JSON-ready data (money as strings: no binary floats)."""
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value
    return plain(asdict(charges))
