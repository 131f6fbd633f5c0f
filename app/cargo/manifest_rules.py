"""Rules for sea and air manifests, as data (``rules/manifest/rules.toml``): each rule names a
check below, its severity, bilingual title and message and its parameters. Checked when the
service starts; evaluated on every lodgement and amendment, each finding naming its path. The
same file names the ports whose customs receive cleared manifests (``[partner_customs]``)."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.cargo.rules import CargoRule, CheckSpec, Hit, read_rules, run_rules
from app.domain.findings import Finding
from app.domain.manifests import (
    AIR,
    DOCUMENT_KIND_BY_MODE,
    SEA,
    AIR_WAYBILL,
    Manifest,
    consignment_path,
    document_path,
    is_valid_air_waybill,
    is_valid_container_number,
    is_valid_imo_number,
    step,
)
from app.domain.problems import RulesDataError
from app.domain.time import HONG_KONG
from app.reference.codelists import CodeLists

ROOT = "/Manifest"
Check = Callable[[Manifest, Mapping[str, Any], CodeLists, datetime], Iterator[Hit]]
CHECKS: dict[str, CheckSpec] = {}


def check(name: str, params: Mapping[str, type] | None = None, fields: tuple[str, ...] = ("value",)
          ) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = CheckSpec(function, dict(params or {}), frozenset(fields))  # type: ignore[arg-type]
        return function
    return register


def _consignments(manifest: Manifest) -> Iterator[tuple[str, Any]]:
    for d, document in enumerate(manifest.documents):
        for c, consignment in enumerate(document.consignments):
            yield consignment_path(manifest, d, c), consignment


@check("conveyance_identity", fields=("value", "why", "why_zh"))
def conveyance_identity(manifest: Manifest, _params: Mapping[str, Any], _codes: CodeLists,
                        _now: datetime) -> Iterator[Hit]:
    """A vessel by its IMO number (with its check digit), an aircraft by its flight."""
    means = f"{ROOT}/BorderTransportMeans"
    conveyance = manifest.conveyance
    if manifest.mode == SEA and conveyance.imo_number is None:
        yield Hit(means, {"value": conveyance.flight_number or "", "why": "a vessel needs its IMO number and voyage",
                          "why_zh": "船舶須填報國際海事組織編號及航次"})
    elif manifest.mode == AIR and conveyance.flight_number is None:
        yield Hit(means, {"value": conveyance.imo_number or "", "why": "an aircraft needs its flight number and date",
                          "why_zh": "航機須填報航班編號及日期"})
    elif conveyance.imo_number is not None and not is_valid_imo_number(conveyance.imo_number):
        yield Hit(f"{means}/IMOID", {"value": conveyance.imo_number, "why": "its check digit is wrong",
                                     "why_zh": "校驗位不正確"})


@check("document_kind", fields=("value", "expected"))
def document_kind(manifest: Manifest, _params: Mapping[str, Any], _codes: CodeLists,
                  _now: datetime) -> Iterator[Hit]:
    expected = DOCUMENT_KIND_BY_MODE.get(manifest.mode, "")
    for d, document in enumerate(manifest.documents):
        if document.kind != expected:
            yield Hit(f"{document_path(manifest, d)}/TypeCode", {"value": document.kind, "expected": expected})


@check("air_waybill_number")
def air_waybill_number(manifest: Manifest, _params: Mapping[str, Any], _codes: CodeLists,
                       _now: datetime) -> Iterator[Hit]:
    for d, document in enumerate(manifest.documents):
        if document.kind == AIR_WAYBILL and not is_valid_air_waybill(document.number):
            yield Hit(f"{document_path(manifest, d)}/ID", {"value": document.number})


@check("container_number")
def container_number(manifest: Manifest, _params: Mapping[str, Any], _codes: CodeLists,
                     _now: datetime) -> Iterator[Hit]:
    for path, consignment in _consignments(manifest):
        for e, box in enumerate(consignment.equipment):
            if not is_valid_container_number(box.number):
                yield Hit(f"{path}/{step('TransportEquipment', e, len(consignment.equipment))}/ID",
                          {"value": box.number})


@check("customs_office", fields=("value", "expected"))
def customs_office(manifest: Manifest, _params: Mapping[str, Any], codes: CodeLists,
                   _now: datetime) -> Iterator[Hit]:
    """Sea cargo is reported at a port's customs office, air cargo at the airport's."""
    expected = {SEA: "port", AIR: "airport"}.get(manifest.mode, "")
    point = codes.control_points.get(manifest.control_point)
    if point is None or point.kind != expected:
        yield Hit(f"{ROOT}/ControlPointID", {"value": manifest.control_point, "expected": expected})


@check("hong_kong_end", fields=("value", "why", "why_zh"))
def hong_kong_end(manifest: Manifest, _params: Mapping[str, Any], codes: CodeLists,
                  _now: datetime) -> Iterator[Hit]:
    """An arrival is discharged in Hong Kong, a departure loaded there; the other end is a real
    country."""
    arriving = manifest.direction == "IM"
    home, home_path = ((manifest.unloading_location, "UnloadingLocationID") if arriving
                       else (manifest.loading_location, "LoadingLocationID"))
    other, other_path = ((manifest.loading_location, "LoadingLocationID") if arriving
                         else (manifest.unloading_location, "UnloadingLocationID"))
    if not home.startswith("HK"):
        yield Hit(f"{ROOT}/{home_path}", {"value": home, "why": "is not in Hong Kong", "why_zh": "不在香港"})
    if other[:2] not in codes.countries:
        yield Hit(f"{ROOT}/{other_path}", {"value": other, "why": "names no ISO 3166 country",
                                           "why_zh": "並非 ISO 3166 國家"})


@check("lodgement_window", {"latest_days": int}, ("scheduled", "why", "why_zh", "latest_days"))
def lodgement_window(manifest: Manifest, params: Mapping[str, Any], _codes: CodeLists,
                     now: datetime) -> Iterator[Hit]:
    """Lodged before the conveyance arrives or departs, and not too far ahead."""
    scheduled = manifest.scheduled_at
    shown = scheduled.astimezone(HONG_KONG).strftime("%Y-%m-%d %H:%M HKT")
    if scheduled < now:
        why, why_zh = "already past", "已過"
    elif scheduled > now + timedelta(days=params["latest_days"]):
        why, why_zh = "too far ahead", "太遠"
    else:
        return
    yield Hit(f"{ROOT}/ScheduledDateTime", {"scheduled": shown, "why": why, "why_zh": why_zh, **params})


@check("unique_numbers")
def unique_numbers(manifest: Manifest, _params: Mapping[str, Any], _codes: CodeLists,
                   _now: datetime) -> Iterator[Hit]:
    """Each transport document once per manifest, each consignment number once per document."""
    seen: set[str] = set()
    for d, document in enumerate(manifest.documents):
        if document.number in seen:
            yield Hit(f"{document_path(manifest, d)}/ID", {"value": document.number})
        seen.add(document.number)
        sequences: set[int] = set()
        for c, consignment in enumerate(document.consignments):
            if consignment.sequence in sequences:
                yield Hit(f"{consignment_path(manifest, d, c)}/SequenceNumeric", {"value": consignment.sequence})
            sequences.add(consignment.sequence)


@check("known_package_type")
def known_package_type(manifest: Manifest, _params: Mapping[str, Any], codes: CodeLists,
                       _now: datetime) -> Iterator[Hit]:
    for path, consignment in _consignments(manifest):
        if consignment.package_type not in codes.package_types:
            yield Hit(f"{path}/Packaging/TypeCode", {"value": consignment.package_type})


@check("known_countries")
def known_countries(manifest: Manifest, _params: Mapping[str, Any], codes: CodeLists,
                    _now: datetime) -> Iterator[Hit]:
    for path, consignment in _consignments(manifest):
        for where, country in ((f"{path}/Consignor/Address/CountryCode", consignment.consignor.address.country),
                               (f"{path}/Consignee/Address/CountryCode", consignment.consignee.address.country),
                               (f"{path}/OriginCountryCode", consignment.origin_country)):
            if country is not None and country not in codes.countries:
                yield Hit(where, {"value": country})


@check("vague_description", {"words": list})
def vague_description(manifest: Manifest, params: Mapping[str, Any], _codes: CodeLists,
                      _now: datetime) -> Iterator[Hit]:
    words = {str(word).lower() for word in params["words"]}
    for path, consignment in _consignments(manifest):
        if consignment.goods_description.strip(" .").lower() in words:
            yield Hit(f"{path}/GoodsDescription", {"value": consignment.goods_description})


@check("mass_per_package", {"lowest": float, "highest": float},
       ("mass", "packages", "per_package", "lowest", "highest"))
def mass_per_package(manifest: Manifest, params: Mapping[str, Any], _codes: CodeLists,
                     _now: datetime) -> Iterator[Hit]:
    for path, consignment in _consignments(manifest):
        per_package = consignment.gross_mass_kg / consignment.package_count
        if not Decimal(str(params["lowest"])) <= per_package <= Decimal(str(params["highest"])):
            yield Hit(f"{path}/GrossMassMeasure", {
                "mass": f"{consignment.gross_mass_kg.normalize():f}", "packages": consignment.package_count,
                "per_package": f"{per_package.quantize(Decimal('0.001')).normalize():f}", **params})


#: A manifest rule has a cargo rule's parts.
ManifestRule = CargoRule


@dataclass(frozen=True, slots=True)
class ManifestRules:
    """The rules, and the ports (UN/LOCODE) whose partner customs receive cleared manifests, by
    the boundary code their subscribers are registered under."""

    rules: tuple[ManifestRule, ...]
    partner_customs: Mapping[str, str]

    def boundary_of(self, manifest: Manifest) -> str | None:
        foreign = manifest.loading_location if manifest.direction == "IM" else manifest.unloading_location
        return self.partner_customs.get(foreign)


def load_rules(rules_dir: Path) -> ManifestRules:
    """``rules_dir/manifest/rules.toml``, checked whole: any mistake stops start-up, naming the rule."""
    path = rules_dir / "manifest" / "rules.toml"
    rules, document = read_rules(path, CHECKS, "M")
    partners = document.get("partner_customs", {})
    if not isinstance(partners, dict) or not all(isinstance(v, str) for v in partners.values()):
        raise RulesDataError(path, None, "[partner_customs] maps UN/LOCODEs to boundary codes (strings)")
    return ManifestRules(rules, dict(partners))


def evaluate(rules: ManifestRules, manifest: Manifest, codes: CodeLists, now: datetime) -> list[Finding]:
    """Every rule's findings on the manifest, in the file's order."""
    return run_rules(rules.rules, CHECKS, manifest, codes, now)
