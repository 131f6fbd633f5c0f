"""What people read instead of stored codes: states, lanes, statuses, alert kinds, event
kinds, decisions, roles, charges, transport modes and who acted, in the reader's language.

The database keeps codes (``route_deviation``, ``officer:chan``, ``client:2:harbour-tms``);
every page shows them through ``term`` and ``actor`` (Jinja filters ``term`` and ``actor``),
so nobody reads an internal name. The code itself stays available to those who want it
(``data-*`` attributes, the API, ``details`` elements).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

CASE_STATES = {
    "open": _l("open"), "claimed": _l("claimed"), "awaiting_documents": _l("awaiting documents"),
    "inspection": _l("inspection due"), "closed": _l("closed"),
}
LANES = {"green": _l("green"), "yellow": _l("yellow"), "red": _l("red"), "none": _l("no lane")}
STATUSES = {
    "accepted": _l("accepted"), "under_review": _l("under review"), "released": _l("released"),
    "refused": _l("refused"), "cancelled": _l("cancelled"),
}
ALERT_KINDS = {
    "route_deviation": _l("left the approved route"), "lock_opened": _l("e-lock opened on the way"),
    "lock_tampered": _l("e-lock tampered with"), "seal_away_from_origin": _l("sealed away from the origin"),
    "unseal_away_from_destination": _l("unsealed away from the destination"),
    "long_stop": _l("stopped too long"), "overdue": _l("arrival overdue"),
    "telemetry_silence": _l("e-lock stopped reporting"),
}
DECLARATION_TYPES = {"IM": _l("import"), "EX": _l("export"), "TS": _l("transhipment under e-lock")}
TRANSPORT_MODES = {
    "1": _l("sea"), "2": _l("rail"), "3": _l("road"), "4": _l("air"), "5": _l("post"),
    "7": _l("fixed installation"), "8": _l("inland water"), "9": _l("not known"),
}
EVENTS = {
    "opened": _l("case opened"), "updated": _l("case updated"), "claimed": _l("claimed"),
    "unclaimed": _l("returned to the queue"), "reassigned": _l("reassigned"), "escalated": _l("escalated"),
    "note": _l("note"), "inspection_recorded": _l("inspection outcome recorded"),
    "decision:release": _l("decision: release"), "decision:request_documents": _l("decision: request documents"),
    "decision:inspect": _l("decision: physical inspection"), "decision:refuse": _l("decision: refuse"),
    "decision:reroute": _l("decision: re-route lane"), "closed": _l("case closed"), "alert": _l("transit alert"),
    "documents_answered": _l("documents answered"), "submitted": _l("lodged"), "amended": _l("amended"),
    "released": _l("released"), "refused": _l("refused"), "cancelled": _l("cancelled"),
    "documents_requested": _l("documents requested"), "inspection_ordered": _l("physical inspection ordered"),
    "lane_changed": _l("lane changed"),
}
DECISIONS = {
    "release": _l("release"), "released": _l("released"), "refused": _l("refused"), "refuse": _l("refuse"),
    "inspect": _l("physical inspection"), "request_documents": _l("request documents"),
    "reroute": _l("re-route lane"), "rerouted_green": _l("re-routed to the green lane"),
    "declaration_cancelled": _l("declaration cancelled by the trader"),
    "declaration_released": _l("declaration already released"),
    "declaration_refused": _l("declaration already refused"),
    "deselected": _l("no longer selected after an amendment"),
    "cargo_cancelled": _l("cargo withdrawn by its lodger"),
}
ROLES = {"officer": _l("officer"), "supervisor": _l("supervisor"), "admin": _l("administrator"),
         "trader": _l("trader")}
PARTY_ROLES = {"declarant": _l("declarant"), "importer": _l("importer"), "exporter": _l("exporter"),
               "carrier": _l("carrier"), "agent": _l("agent"), "buyer": _l("buyer"), "seller": _l("seller"),
               "consignor": _l("consignor"), "consignee": _l("consignee")}
REPRESENTATION = {"1": _l("the declarant itself"), "2": _l("direct representation"),
                  "3": _l("indirect representation")}
SEVERITIES = {"reject": _l("must be fixed"), "hold": _l("held for an officer"), "warn": _l("warning"),
              "info": _l("for information")}
CHARGES = {"declaration_charge": _l("declaration charge"), "clothing_levy": _l("clothing levy"),
           "duty": _l("duty"), "penalty": _l("late-lodgement penalty")}
COMMODITIES = {
    "beer": _l("beer"), "wine": _l("wine"), "fermented_liquor": _l("other fermented liquor"),
    "liquor": _l("spirits"), "cigars": _l("cigars"), "cigarettes": _l("cigarettes"),
    "chinese_prepared_tobacco": _l("Chinese prepared tobacco"),
    "other_manufactured_tobacco": _l("other manufactured tobacco"), "unleaded_petrol": _l("unleaded petrol"),
    "leaded_petrol": _l("leaded petrol"), "aircraft_spirit": _l("aircraft spirit"),
    "light_diesel": _l("light diesel oil"), "ultra_low_sulphur_diesel": _l("ultra-low sulphur diesel"),
    "euro_v_diesel": _l("Euro V diesel"), "methyl_alcohol": _l("methyl alcohol"),
}
RESULTS = {"no_discrepancy": _l("no discrepancy"), "discrepancy": _l("discrepancy"), "seizure": _l("seizure")}
SELECTIONS = {"targeted": _l("targeted"), "random": _l("random sample")}
JOURNEY_STATES = {
    "registered": _l("registered"), "sealed": _l("sealed"), "in_transit": _l("in transit"),
    "arrived": _l("arrived"), "exception": _l("exception"),
}
REASON_SOURCES = {"lane": _l("lane"), "finding": _l("rule finding"), "alert": _l("transit alert"),
                  "hold": _l("rule finding")}

_ALL: dict[str, Any] = {}
for _table in (COMMODITIES, REASON_SOURCES, JOURNEY_STATES, SELECTIONS, RESULTS, CHARGES, SEVERITIES, PARTY_ROLES,
               ROLES,
               DECISIONS, EVENTS, TRANSPORT_MODES, ALERT_KINDS, STATUSES, LANES, CASE_STATES):
    _ALL.update(_table)


def term(value: object, table: dict[str, Any] | None = None) -> str:
    """A stored code in the reader's language; an unknown code made readable (never a raw
    ``snake_case`` or ``prefix:name``)."""
    if value is None or value == "":
        return ""
    code = str(value)
    found = (table or _ALL).get(code)
    if found is None and table is not None:
        found = _ALL.get(code)
    if found is not None:
        return str(found)
    return code.replace(":", ": ").replace("_", " ")


_CLIENT = re.compile(r"^client:\d+:(?P<name>.+)$")


def actor(value: object) -> str:
    """Who acted, as a person reads it: ``officer:chan`` -> "officer chan", ``client:2:tms``
    -> "system tms (API key)", ``system:lane-policy`` -> "automatic lane policy"."""
    text = str(value or "")
    kind, _sep, rest = text.partition(":")
    if kind == "officer" and rest:
        return _("officer %(name)s", name=rest)
    if kind == "user" and rest:
        return _("trader %(name)s (portal)", name=rest)
    if kind == "client" and (match := _CLIENT.match(text)):
        return _("system %(name)s (API key)", name=match.group("name"))
    known = {
        "system:lane-policy": _("automatic lane policy"), "system:demo-seed": _("demo data"),
        "system:dispatcher": _("message dispatcher"), "job:case-escalation": _("automatic escalation"),
        "job:elock-overdue": _("automatic overdue check"), "job:aeo-expiry": _("automatic AEO expiry check"),
        "job:risk-retrain": _("automatic risk model training"), "system": _("the system"),
    }
    if text in known:
        return known[text]
    if kind in ("cli", "job", "system") and rest:
        return _("automatic: %(name)s", name=rest.replace("-", " "))
    return text


ACCOUNT_EVENTS = {"created": _l("account created"), "role_changed": _l("role changed"),
                  "deactivated": _l("deactivated"), "reactivated": _l("reactivated"),
                  "password_reset": _l("password reset"), "search_saved": _l("filter saved"),
                  "search_deleted": _l("filter deleted")}


def account_event(code: object) -> str:
    return term(code, ACCOUNT_EVENTS)


SUBSCRIBER_TERMS = {
    "party": _l("company"), "control_point": _l("control point"), "terminal": _l("terminal"),
    "partner_customs": _l("partner customs"), "webhook": _l("web hook"), "amqp": _l("message queue (AMQP)"),
    "pull": _l("pull queue"), "active": _l("active"), "paused": _l("paused"), "blocked": _l("blocked"),
    "release_notice": _l("release notice"), "refusal_notice": _l("refusal notice"),
    "cancellation_notice": _l("cancellation notice"), "manifest_decision": _l("conveyance manifest"),
    "cargo_manifest_decision": _l("sea or air manifest decision"),
    "retired": _l("retired"), "removed": _l("removed"), "added": _l("added"), "changed": _l("changed"),
    "resumed": _l("resumed"), "replayed": _l("dead letters sent again"), "unblocked": _l("unblocked"),
    "role": _l("receives as"), "code": _l("control point or boundary"), "transport": _l("delivered by"),
    "url": _l("address"), "format": _l("format"), "state": _l("state"), "undelivered": _l("messages left undelivered"),
}


def subscriber_term(code: object) -> str:
    return term(code, SUBSCRIBER_TERMS)


MANIFEST_TERMS = {
    "lodged": _l("lodged"), "arrived": _l("arrived"), "departed": _l("departed"), "cancelled": _l("cancelled"),
    "cleared": _l("cleared"), "selected": _l("selected for a check"), "inspection": _l("cargo selected"),
    "pending": _l("pending"), "amended": _l("amended"), "line_released": _l("consignment released by an officer"),
    "BL": _l("bill of lading"), "AWB": _l("air waybill"),
}


def manifest_term(code: object) -> str:
    return term(code, MANIFEST_TERMS)


CARGO_TERMS = {
    "lodged": _l("lodged"), "moved": _l("crossed"), "cancelled": _l("cancelled"), "amended": _l("amended"),
    "open": _l("not declared yet"), "partial": _l("partly declared"), "written_off": _l("written off"),
    "over": _l("more declared than lodged"), "closed": _l("closed (e-lock journey released)"),
    "covered": _l("declaration counted"), "uncovered": _l("declaration no longer counted"),
    "reconciled": _l("figures reconciled"), "followed_up": _l("followed up: not declared in time"),
    "CRN": _l("cargo reference"), "BL": _l("bill of lading"), "AWB": _l("air waybill"),
    "released": _l("released by an officer"), "held": _l("held by an officer"),
}


def cargo_term(code: object) -> str:
    return term(code, CARGO_TERMS)


AEO_STATUSES = {"active": _l("active"), "suspended": _l("suspended"), "revoked": _l("revoked"),
                "expired": _l("expired"), "unknown": _l("not in the registry")}


def aeo_status(code: object) -> str:
    return term(code, AEO_STATUSES)


def declaration_type(code: object) -> str:
    """``IM`` -> "import (IM)"."""
    if not code:
        return ""
    return f"{term(code, DECLARATION_TYPES)} ({code})"


def reason_label(reason: dict[str, Any]) -> str:
    """Why a case needs an officer, short: "red lane", "left the approved route", or the rule
    finding's own words in the reader's language."""
    source, code = reason.get("source"), str(reason.get("code") or "")
    if source == "lane":
        return _("%(lane)s lane", lane=term(code, LANES))
    if source == "alert":
        return term(code, ALERT_KINDS)
    zh = str(get_locale() or "en") == "zh_Hant"
    text = str((reason.get("message_zh") if zh and reason.get("message_zh") else reason.get("message")) or code)
    return text if len(text) <= 90 else text[:88] + "…"


def when(value: datetime | None, seconds: bool = False) -> str:
    """A moment as Hong Kong time with its year: ``2026-12-06 14:22 HKT``."""
    if value is None:
        return "—"
    return format_datetime(value, "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm") + " " + _("HKT")


def duration_minutes(minutes: float | None) -> str:
    """A time to clearance: "35 min", "2 h 5 min", in the reader's language."""
    if minutes is None:
        return "—"
    whole = round(minutes)
    if whole < 60:
        return _("%(m)d min", m=whole)
    return _("%(h)d h %(m)d min", h=whole // 60, m=whole % 60)
