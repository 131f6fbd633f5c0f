"""The outcome of assessing a declaration: findings, charges, AEO benefits, and what refuses it."""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
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
    """The assessment as JSON-ready data (money as strings: no binary floats). What
    ``plain(asdict(...))`` gives, walked directly: asdict deep-copies every leaf first, which
    cost more than the rest of the record on every lodgement."""
    record: dict[str, Any] = _plain(charges)
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    names = _FIELDS.get(type(value))
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELDS[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}
