"""Offline checks of cargo and manifest documents (``csw validate``): the schema, then the rules
as of one day before the crossing, arrival or departure the document names, so a document kept
on file reads the same whenever it is checked (the lodgement window is the API's, at the moment
of lodging)."""
from __future__ import annotations

from datetime import timedelta

from lxml import etree

from app.cargo import manifest_mapping, manifest_rules
from app.cargo import mapping as cargo_mapping
from app.cargo import rules as cargo_rules
from app.domain.findings import Finding, Severity
from app.domain.problems import Problem, Rejection
from app.platform.schemas import DocumentChecker
from app.platform.xml import parse_untrusted
from app.reference.codelists import CodeLists

BEFORE = timedelta(days=1)


def kind_of(body: bytes) -> str | None:
    """``cargo`` or ``manifest`` for a document in one of their namespaces, else None (a
    declaration, or whatever the declaration intake will say it is)."""
    try:
        namespace = etree.QName(parse_untrusted(body).getroot()).namespace or ""
    except Rejection:
        return None
    for kind in ("cargo", "manifest"):
        if namespace.startswith(f"urn:csw:{kind}:"):
            return kind
    return None


def _refuse(what: str, findings: list[Finding]) -> list[Finding]:
    refusing = [f for f in findings if f.severity is Severity.REJECT]
    if refusing:
        raise Rejection("RULES_REJECTED", f"the {what} breaks rules that refuse it", [
            Problem(message=f.message_en, message_zh=f.message_zh, path=f.path, rule=f.code, severity=f.severity.value)
            for f in refusing])
    return findings


def check(checker: DocumentChecker, kind: str, body: bytes, cargo: tuple[cargo_rules.CargoRule, ...],
          manifests: manifest_rules.ManifestRules, codes: CodeLists) -> list[Finding]:
    """The findings of a document that passes (warnings), or the refusal the API would give."""
    if kind == "cargo":
        information = cargo_mapping.received(body, checker.check(body, "cargo")).cargo
        return _refuse("cargo information", cargo_rules.evaluate(
            cargo, information, codes, information.expected_crossing_at - BEFORE))
    manifest = manifest_mapping.received(body, checker.check(body, "manifest")).manifest
    return _refuse("manifest", manifest_rules.evaluate(manifests, manifest, codes, manifest.scheduled_at - BEFORE))
