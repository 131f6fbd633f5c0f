"""The outbox follows the rest: a declaration's new status routes its notice (release,
refusal, cancellation), a trip's changed manifest routes the new copy."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import DeclarationStatusChanged, ManifestChanged
from app.routing import outbox
from app.reference.routing import RoutingRules


def on_status_changed(session: Session, event: DeclarationStatusChanged, *, rules: RoutingRules) -> None:
    outbox.declaration_notice(session, rules, event.facts, event.at, event.note)


def on_manifest_changed(session: Session, event: ManifestChanged, *, rules: RoutingRules) -> None:
    outbox.manifest_message(session, rules, event)
