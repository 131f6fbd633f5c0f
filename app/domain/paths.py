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


#: Where a v1 element sits in schema v2 (and a WCO DEC-DMS document): the rules name v1's paths.
_V2_PATHS = (
    ("/GoodsMeasure/NetMassMeasure", "/Commodity/GoodsMeasure/NetNetWeightMeasure"),
    ("/GoodsMeasure/", "/Commodity/GoodsMeasure/"),
    ("/Consignment/ControlPointID", "/Consignment/GoodsLocation/ID"),
    ("/Consignment/DepartureLocationID", "/Consignment/LoadingLocation/ID"),
    ("/Consignment/DestinationLocationID", "/Consignment/UnloadingLocation/ID"),
    ("/Declaration/GoodsShipment/Consignment/TransportModeCode", "/Declaration/BorderTransportMeans/ModeCode"),
    ("/Declaration/GoodsShipment/Consignment/ConveyanceID", "/Declaration/BorderTransportMeans/ID"),
    ("/Declaration/Totals/GrossMassMeasure", "/Declaration/TotalGrossMassMeasure"),
    ("/Declaration/Totals/GoodsItemQuantity", "/Declaration/GoodsItemQuantity"),
    ("/Declaration/Totals/CustomsValueAmount", "/Declaration/InvoiceAmount"),
    ("/Declaration/Importer", "/Declaration/GoodsShipment/Importer"),
    ("/Declaration/Carrier", "/Declaration/Consignment/Carrier"),
    ("/Declaration/UCRID", "/Declaration/GoodsShipment/UCR/ID"),
    ("/Declaration/Buyer", "/Declaration/GoodsShipment/Buyer"),
    ("/Declaration/Seller", "/Declaration/GoodsShipment/Seller"),
    ("/Declaration/Consignee", "/Declaration/GoodsShipment/Consignee"),
    ("/Declaration/Consignor", "/Declaration/GoodsShipment/Consignment/Consignor"),
)


def in_profile(path: str, root: str) -> str:
    """A rule's (v1) path as the v2 profile names it, under ``root`` (``/MetaData`` for a WCO
    document, "" for schema v2)."""
    for old, new in _V2_PATHS:
        if old in path and not (old == "/GoodsMeasure/" and "/Commodity/GoodsMeasure/" in path):
            path = path.replace(old, new, 1)
            break
    return f"{root}{path}" if path.startswith("/Declaration") else path
