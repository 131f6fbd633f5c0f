"""Assessment: rules and charges applied to one declaration, as one result.

``RuleSet`` is everything in ``rules/`` (packs, code lists, rate tables) loaded once at
start-up and identified by a content hash, so every stored decision names the exact
rules it was made under.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from datetime import datetime
from collections.abc import Mapping
from pathlib import Path

from app.aeo.effects import AeoBenefits, load_benefits, summarise
from app.aeo.mra import MraPartners, load_mra_partners
from app.domain.charges import Assessment, assess as assess_charges
from app.domain.declaration import Declaration
from app.domain.findings import Finding, Severity
from app.domain.problems import Problem, Rejection
from app.domain.time import hong_kong_date
from app.rules.checks import AeoStandingView, CheckContext
from app.rules.codelists import CodeLists, load_code_lists
from app.rules.engine import Rule, evaluate, load_rules
from app.rules.rates import RateTables, load_rate_tables


def content_version(directory: Path) -> str:
    """SHA-256 over every file's relative path and bytes: changes with any edit in rules/."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    code_lists: CodeLists
    rates: RateTables
    aeo_benefits: AeoBenefits
    mra: MraPartners
    version: str

    @classmethod
    def load(cls, directory: Path) -> "RuleSet":
        """Load and validate ``rules/``; any problem raises with its file and line."""
        return cls(
            rules=load_rules(directory / "packs"),
            code_lists=load_code_lists(directory / "codelists"),
            rates=load_rate_tables(directory / "rates"),
            aeo_benefits=load_benefits(directory / "aeo" / "benefits.toml"),
            mra=load_mra_partners(directory / "aeo" / "mra_partners.toml"),
            version=content_version(directory),
        )


@dataclass(frozen=True)
class Assessed:
    findings: tuple[Finding, ...]
    charges: Assessment
    rules_version: str
    aeo: dict[str, Any]

    @property
    def rejected(self) -> bool:
        return any(finding.severity is Severity.REJECT for finding in self.findings)


def assess(rule_set: RuleSet, declaration: Declaration, received_at: datetime,
           aeo: Mapping[str, AeoStandingView] | None = None) -> Assessed:
    """Charges, every rule in force, and the AEO benefits; ``aeo`` is the registry's
    standing of the ids the declaration names (``app.aeo.effects.party_ids``)."""
    aeo = aeo or {}
    charges = assess_charges(declaration, rule_set.rates, hong_kong_date(received_at))
    context = CheckContext(code_lists=rule_set.code_lists, received_at=received_at,
                           value_hkd=charges.value_hkd, aeo=aeo)
    findings = evaluate(rule_set.rules, declaration, context)
    return Assessed(tuple(findings), charges, rule_set.version,
                    summarise(declaration, aeo, findings, rule_set.aeo_benefits))


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
