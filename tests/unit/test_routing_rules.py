"""rules/routing: the shipped files load; a wrong file stops start-up naming file and reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.domain.routing import MessageFacts, MessageType, RecipientRole, recipients_for
from app.reference.routing import RoutingRules, load_manifest_policy, load_routes
from app.domain.problems import RulesDataError


def test_shipped_rules_route_releases_and_cleared_cross_boundary_manifests() -> None:
    rules = RoutingRules.load(PROJECT_ROOT / "rules")
    release = MessageFacts(MessageType.RELEASE_NOTICE, control_point="HKLMC", transport_mode="3")
    assert set(recipients_for(rules.routes, release)) == {
        RecipientRole.DECLARANT, RecipientRole.CARRIER, RecipientRole.CONTROL_POINT, RecipientRole.TERMINAL}
    cleared = MessageFacts(MessageType.MANIFEST_DECISION, control_point="HKSZB", decision="cleared",
                           cross_boundary=rules.crosses_boundary("HKSZB"))
    assert RecipientRole.PARTNER_CUSTOMS in recipients_for(rules.routes, cleared)
    assert not rules.crosses_boundary("HKHKG")
    assert rules.manifest.link_cutoff_minutes == 30
    assert rules.manifest.vehicle_mark_pattern.fullmatch("XY1234")
    for wrong in ("XO1234", "12345", "AB-12", "ABCDEFGHJ"):
        assert not rules.manifest.vehicle_mark_pattern.fullmatch(wrong)


@pytest.mark.parametrize(("text", "reason"), [
    ('[[route]]\nmessage_types = ["release_notice"]\nrecipients = ["captain"]\n', "recipients must be among"),
    ('[[route]]\nmessage_types = ["parcel"]\nrecipients = ["declarant"]\n', "message_types must be among"),
    ('[[route]]\nmessage_types = ["release_notice"]\nrecipients = ["declarant"]\ncontrol_point = ["HKLMC"]\n',
     "unknown key(s) control_point"),
    ('[[route]]\nmessage_types = ["release_notice"]\nrecipients = ["declarant"]\ncross_boundary = "yes"\n',
     "cross_boundary must be true or false"),
    ("", "no [[route]] defined"),
    ("[[route]\n", "not valid TOML"),
])
def test_a_wrong_routes_file_is_refused_with_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "routes.toml"
    path.write_text(text)
    with pytest.raises(RulesDataError) as error:
        load_routes(path)
    assert reason in str(error.value) and str(path) in str(error.value)


def test_a_wrong_manifest_policy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "manifest.toml"
    path.write_text("link_cutoff_minutes = 30\nopen_ahead_days = 14\nvehicle_mark_pattern = '('\n")
    with pytest.raises(RulesDataError, match="invalid value"):
        load_manifest_policy(path)
    path.write_text("open_ahead_days = 14\n")
    with pytest.raises(RulesDataError, match="missing link_cutoff_minutes"):
        load_manifest_policy(path)
