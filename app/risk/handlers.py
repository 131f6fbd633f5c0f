"""The risk module keeps its assessments with each declaration version it scored, and learns
from what inspections find."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.domain.events import DeclarationAmended, DeclarationLodged, InspectionOutcomeRecorded
from app.risk.feedback import record_outcome
from app.risk.service import store_assessment


def on_declaration_lodged(session: Session, event: DeclarationLodged) -> None:
    if event.risk is not None:
        # a declaration that needs an officer gets a case, which reads its assessment back
        store_assessment(session, event.declaration_id, 1, event.risk, event.at, unread=not event.needs_officer)


def on_declaration_amended(session: Session, event: DeclarationAmended) -> None:
    if event.risk is not None:
        store_assessment(session, event.declaration_id, event.version, event.risk, event.at)


def on_inspection_outcome(session: Session, event: InspectionOutcomeRecorded) -> None:
    record_outcome(session, declaration_id=event.declaration_id, result=event.result,
                   revenue_recovered=event.revenue_recovered, actor=event.actor, occurred_at=event.at,
                   note=event.note, random_sample=event.random_sample)
