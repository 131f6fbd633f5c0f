"""Read-only views of declarations: one by reference (as its declarant may see it), and a
party's list. Entry points and this capability's own use cases read through them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.db import models
from app.domain.problems import Problem, Rejection
from app.domain.reference import is_valid_declaration_reference


def get_declaration(session: Session, reference: str, party_id: int | None,
                    with_history: bool = False, for_update: bool = False,
                    with_content: bool = False) -> models.Declaration:
    """The declaration, if ``party_id`` (None = any) may see it; otherwise NOT_FOUND.

    Another party's declaration answers exactly as a missing one does, so references
    reveal nothing. ``with_content`` loads what was declared (parties, goods, containers and
    seals) in a few queries, for pages that show it. ``for_update`` locks the row
    (PostgreSQL) so that two changes racing on one declaration run one after the other and
    the second sees the first's outcome."""
    if not is_valid_declaration_reference(reference):
        raise Rejection(
            "INVALID_REFERENCE",
            f"{reference[:40]!r} is not a declaration reference (HKyyD + 10 characters + check character)",
            [Problem(message="format or check character wrong", path="id", rule="reference-check-character")],
        )
    query = select(models.Declaration).where(models.Declaration.id == reference)
    if party_id is not None:
        query = query.where(models.Declaration.declarant_party_id == party_id)
    if with_history:
        query = query.options(selectinload(models.Declaration.events),
                              selectinload(models.Declaration.findings))
    if with_content:
        query = query.options(selectinload(models.Declaration.parties), selectinload(models.Declaration.goods_items),
                              selectinload(models.Declaration.equipment).selectinload(models.TransportEquipment.seals),
                              selectinload(models.Declaration.declarant))
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise Rejection("NOT_FOUND", f"no declaration {reference}")
    return row


@dataclass(frozen=True, slots=True)
class Page:
    items: list[models.Declaration]
    page: int
    per_page: int
    total: int


def list_declarations(session: Session, party_id: int | None, status: str | None, since: datetime | None,
                      page: int, per_page: int) -> Page:
    """The party's declarations, most recently changed first (none for a client bound to no party)."""
    conditions = [models.Declaration.declarant_party_id == party_id]
    if status:
        conditions.append(models.Declaration.status == status)
    if since:
        conditions.append(models.Declaration.updated_at >= since)
    total = session.scalar(select(func.count()).select_from(models.Declaration).where(*conditions)) or 0
    items = session.scalars(
        select(models.Declaration)
        .where(*conditions)
        .order_by(models.Declaration.updated_at.desc(), models.Declaration.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), page, per_page, total)
