"""Canonical risk records from a declaration as lodged (domain object + its assessment)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

from app.db import models
from app.domain.declaration import Declaration, PartyRole
from app.domain.findings import Finding
from app.domain.risk import RiskRecord
from app.domain.assessment import Assessed


def _party(declaration: Declaration, role: PartyRole) -> str:
    for party in declaration.parties:
        if party.role is role:
            return party.identifier
    return ""


def _departure_country(declaration: Declaration) -> str:
    """The country the goods left from: the departure UN/LOCODE's country, else the exporter's."""
    if declaration.departure_location:
        return declaration.departure_location[:2]
    for party in declaration.parties:
        if party.role is PartyRole.EXPORTER and party.country:
            return party.country
    return ""


def item_values_hkd(declaration: Declaration, assessed: Assessed) -> list[float]:
    """Each goods item's value in HKD, shared out from the assessment's HKD total when the
    items are in another currency (the charges module holds the exchange rates)."""
    values = [float(item.value) for item in declaration.goods_items]
    total = sum(values)
    value_hkd = assessed.charges.value_hkd
    if value_hkd is None or total <= 0:
        return values
    factor = float(value_hkd) / total
    return [value * factor for value in values]


def _duty_by_item(assessed: Assessed) -> dict[int, Decimal]:
    duty: dict[int, Decimal] = {}
    for line in assessed.charges.lines:
        if line.kind == "duty" and line.goods_item_sequence is not None:
            duty[line.goods_item_sequence] = duty.get(line.goods_item_sequence, Decimal(0)) + line.amount
    return duty


class _Shared(TypedDict):
    """The fields every goods item's record of one declaration shares."""

    declaration_id: str
    declared_on: date | None
    departure_country: str
    declaration_type: str
    transport_mode: str
    office: str
    importer: str
    declarant: str
    seller: str
    carrier: str
    aeo_tier: int | None
    findings: tuple[str, ...]
    transit_alerts: tuple[str, ...]


def build_records(declaration_id: str, declaration: Declaration, assessed: Assessed,
                  transit_alerts: tuple[str, ...] = ()) -> list[RiskRecord]:
    """One record per goods item (values in HKD, tax rate = assessed duty / value)."""
    values = item_values_hkd(declaration, assessed)
    duty = _duty_by_item(assessed)
    findings = tuple(f.code for f in assessed.findings)
    tier = assessed.aeo.get("tier") if assessed.aeo else None
    common: _Shared = {
        "declaration_id": declaration_id, "declared_on": declaration.issued_at.date(),
        "departure_country": _departure_country(declaration), "declaration_type": declaration.type.value,
        "transport_mode": declaration.transport_mode, "office": declaration.control_point or "",
        "importer": _party(declaration, PartyRole.IMPORTER), "declarant": _party(declaration, PartyRole.DECLARANT),
        "seller": _party(declaration, PartyRole.EXPORTER), "carrier": _party(declaration, PartyRole.CARRIER),
        "aeo_tier": int(tier) if isinstance(tier, int) else None, "findings": findings,
        "transit_alerts": transit_alerts,
    }
    records = []
    for item, value in zip(declaration.goods_items, values):
        item_duty = float(duty.get(item.sequence, 0))
        records.append(RiskRecord(
            item_sequence=item.sequence, hs_code=item.hs_code, origin_country=item.origin_country,
            value=value, net_mass=float(item.net_mass), tax_rate=item_duty / value * 100 if value > 0 else 0.0,
            **common,
        ))
    return records


def finding_pairs(findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.code, f.severity.value) for f in findings]


def stored_records(row: models.Declaration, fraud: bool | None = None, revenue: float | None = None,
                   transit_alerts: tuple[str, ...] = ()) -> list[RiskRecord]:
    """One record per goods item of a stored declaration (its latest version): values in HKD from
    the stored charges, tax rate from the assessed duty, AEO tier and findings of that version."""
    parties = {p.role: p.identifier for p in row.parties}
    exporter_country = next((p.country for p in row.parties if p.role == PartyRole.EXPORTER.value), None) or ""
    charges: dict[str, Any] = row.charges or {}  # stored JSON: values as charges_record wrote them
    items = list(row.goods_items)
    declared = [float(item.value) for item in items]
    value_hkd = charges.get("value_hkd")
    factor = float(value_hkd) / sum(declared) if value_hkd and sum(declared) > 0 else 1.0
    duty: dict[int, float] = {}
    for line in charges.get("lines", []):
        if line.get("kind") == "duty" and line.get("goods_item_sequence") is not None:
            duty[line["goods_item_sequence"]] = duty.get(line["goods_item_sequence"], 0.0) + float(line["amount"])
    tier = (row.aeo or {}).get("tier")
    findings = tuple(f.code for f in row.findings if f.version == row.version)
    records = []
    for item, value in zip(items, declared):
        value *= factor
        records.append(RiskRecord(
            declaration_id=row.id, item_sequence=item.sequence, declared_on=row.issued_at.date(),
            hs_code=item.hs_code, origin_country=item.origin_country,
            departure_country=(row.departure_location or "")[:2] or exporter_country,
            declaration_type=row.type_code, transport_mode=row.transport_mode, office=row.control_point or "",
            importer=parties.get("importer", ""), declarant=parties.get("declarant", ""),
            seller=parties.get("exporter", ""), carrier=parties.get("carrier", ""), value=value,
            net_mass=float(item.net_mass_kg), tax_rate=duty.get(item.sequence, 0.0) / value * 100 if value > 0 else 0.0,
            aeo_tier=tier if isinstance(tier, int) else None, findings=findings, transit_alerts=transit_alerts,
            fraud=fraud, revenue=(value if fraud else 0.0) if revenue is None else revenue,
        ))
    return records
