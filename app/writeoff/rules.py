"""The write-off rules as data (``rules/writeoff/rules.toml``): the period after movement, the
mass tolerance, and the bilingual findings a line carries (partial, over, not declared in
time). Checked when the service starts."""
from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from app.domain.findings import Finding, Severity
from app.domain.problems import RulesDataError

STATUSES = frozenset({"partial", "over", "overdue"})
FIELDS = frozenset({"line", "packages", "declared", "mass", "mass_declared", "moved", "days"})


@dataclass(frozen=True, slots=True)
class WriteOffRule:
    code: str
    status: str
    severity: Severity
    title_en: str
    title_zh: str
    message_en: str
    message_zh: str

    def finding(self, values: dict[str, object]) -> Finding:
        return Finding(self.code, self.severity, None, self.message_en.format(**values),
                       self.message_zh.format(**values))


@dataclass(frozen=True, slots=True)
class WriteOffRules:
    period_days: int
    mass_tolerance_percent: Decimal
    rules: tuple[WriteOffRule, ...]

    def for_status(self, status: str) -> WriteOffRule | None:
        return next((rule for rule in self.rules if rule.status == status), None)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load(rules_dir: Path) -> WriteOffRules:
    path = rules_dir / "writeoff" / "rules.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = []
        for entry in data.get("rule", []):
            code = str(entry["code"])
            if entry["status"] not in STATUSES:
                raise ValueError(f"{code}: status is one of {sorted(STATUSES)}")
            texts = (entry["title"]["en"], entry["title"]["zh"], entry["message"]["en"], entry["message"]["zh"])
            unknown = set().union(*(_fields(t) for t in texts)) - FIELDS
            if unknown:
                raise ValueError(f"{code}: unknown message fields {sorted(unknown)}")
            rules.append(WriteOffRule(code, entry["status"], Severity(entry["severity"]), *texts))
        period = int(data["period_days"])
        tolerance = Decimal(str(data["mass_tolerance_percent"]))
        if period < 1 or tolerance < 0:
            raise ValueError("period_days is at least 1 and mass_tolerance_percent not negative")
    except (OSError, KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise RulesDataError(path, 0, str(exc)) from exc
    return WriteOffRules(period, tolerance, tuple(rules))
