"""Paths of declaration elements in the form the schema errors use
(``/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/...``), so a rule finding and a
schema error point at an element the same way."""
from __future__ import annotations

from app.domain.declaration import Declaration

SHIPMENT = "/Declaration/GoodsShipment"
CONSIGNMENT = f"{SHIPMENT}/Consignment"


def goods_item(declaration: Declaration, index: int, tail: str = "") -> str:
    """Path of the goods item at 0-based ``index`` (position, not its SequenceNumeric)."""
    position = f"[{index + 1}]" if len(declaration.goods_items) > 1 else ""
    path = f"{SHIPMENT}/GovernmentAgencyGoodsItem{position}"
    return f"{path}/{tail}" if tail else path


def equipment(declaration: Declaration, index: int, tail: str = "") -> str:
    position = f"[{index + 1}]" if len(declaration.equipment) > 1 else ""
    path = f"{CONSIGNMENT}/TransportEquipment{position}"
    return f"{path}/{tail}" if tail else path
