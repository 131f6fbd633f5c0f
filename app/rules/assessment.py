"""Assessment: rules and charges applied to one declaration, as one result.

``RuleSet`` is everything in ``rules/`` (packs, code lists, rate tables) loaded once at
start-up and identified by a content hash, so every stored decision names the exact
rules it was made under.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from collections.abc import Mapping
from pathlib import Path

from app.reference.aeo_benefits import AeoBenefits, load_benefits, summarise
from app.reference.mra import MraPartners, load_mra_partners
from app.domain.charges import assess as assess_charges
from app.domain.charges import with_penalties
from app.domain.forms import goods_form
from app.domain.declaration import Declaration
from app.domain.writeoff import cargo_movement
from app.domain.assessment import Assessed
from app.domain.time import hong_kong_date
from app.domain.aeo import AeoStandingView
from app.rules.checks import CheckContext
from app.reference.codelists import CodeLists, load_code_lists
from app.rules.engine import Rule, RulePlan, load_rules
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
    #: The rules in force by declaration type and day, picked once (``RulePlan``).
    plan: RulePlan = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", RulePlan(self.rules))

    @classmethod
    def load(cls, directory: Path) -> RuleSet:
        """Load and validate ``rules/``; any problem raises with its file and line."""
        return cls(
            rules=load_rules(directory / "packs"),
            code_lists=load_code_lists(directory / "codelists"),
            rates=load_rate_tables(directory / "rates"),
            aeo_benefits=load_benefits(directory / "aeo" / "benefits.toml"),
            mra=load_mra_partners(directory / "aeo" / "mra_partners.toml"),
            version=content_version(directory),
        )


def assess(rule_set: RuleSet, declaration: Declaration, received_at: datetime,
           aeo: Mapping[str, AeoStandingView] | None = None,
           cargo_lines: Mapping[tuple[str, str], datetime | None] | None = None) -> Assessed:
    """Charges (on the stated form, else the one the goods call for), every rule in force,
    the penalties findings levy (late lodgement) added to the charges, and the AEO benefits;
    ``aeo`` is the registry's standing of the ids the declaration names
    (``app.reference.aeo_benefits.party_ids``); ``cargo_lines`` the cargo lines customs hold
    among its previous documents and when they moved: the earliest recorded movement is the
    goods' movement date, so the late-lodgement penalty cannot be avoided by leaving the date
    out or stating a later one."""
    aeo = aeo or {}
    stated = declaration.movement_at
    if cargo_lines:
        moved = cargo_movement(((d.type_code, d.identifier) for d in declaration.previous_documents), cargo_lines)
        if moved is not None:
            declaration = replace(declaration, movement_at=moved)
    lists = rule_set.code_lists
    charges = assess_charges(declaration, rule_set.rates, hong_kong_date(received_at),
                             assumed_form=goods_form(declaration, lists.is_food, lists.is_clothing_levy_goods))
    context = CheckContext(code_lists=lists, received_at=received_at, value_hkd=charges.value_hkd, aeo=aeo,
                           cargo_lines=cargo_lines, stated_movement_at=stated)
    findings = rule_set.plan.evaluate(declaration, context)
    charges = with_penalties(charges, findings)
    return Assessed(tuple(findings), charges, rule_set.version,
                    summarise(declaration, aeo, findings, rule_set.aeo_benefits))
