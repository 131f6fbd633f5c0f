"""Builders for declaration documents in tests (valid unless told otherwise)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape

HKT = timezone(timedelta(hours=8))
RECENTLY = "recently"
# A movement on time for the fixed receipt moments of the unit tests (20-22 Nov 2026).
MOVED_19_NOV_2026 = "2026-11-19T09:00:00+08:00"


def recent_movement() -> str:
    """A MovementDateTime on the day before today (Hong Kong time, 09:00): lodged well within the
    14 days, and the same all day, so a document built twice is the same document."""
    return (datetime.now(HKT) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0).isoformat()


def goods_item_xml(sequence: int, hs_code: str = "85171300", value: str = "1200.00") -> str:
    return f"""
    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>{sequence}</SequenceNumeric>
      <Commodity>
        <Description>{escape(f"Smartphones, model {sequence}")}</Description>
        <Classification><ID>{hs_code}</ID></Classification>
      </Commodity>
      <Origin><CountryCode>CN</CountryCode></Origin>
      <GoodsMeasure>
        <TariffQuantity unitCode="PCE">10</TariffQuantity>
        <NetMassMeasure unitCode="KGM">2.5</NetMassMeasure>
        <GrossMassMeasure unitCode="KGM">3</GrossMassMeasure>
      </GoodsMeasure>
      <CustomsValueAmount currencyID="HKD">{value}</CustomsValueAmount>
    </GovernmentAgencyGoodsItem>"""


def declaration_xml(
    lrn: str = "LRN-TEST-0001",
    items: int = 1,
    declarant: str = "12345678",
    type_code: str = "IM",
    function_code: str = "9",
    hs_code: str = "85171300",
    namespace: str = "urn:csw:declaration:v1",
    value: str = "1200.00",
    goods: str | None = None,
    consignment_extra: str = "",
    movement_at: str | None = RECENTLY,
) -> bytes:
    """``goods`` replaces the generated goods items with raw XML; ``consignment_extra`` is
    inserted after the control point (e.g. departure/destination, movement date).
    ``movement_at``: the MovementDateTime of an import or export (by default a day ago, so
    the declaration is on time; None leaves it out), unless ``consignment_extra`` has one."""
    goods = goods if goods is not None else "".join(goods_item_xml(i, hs_code, value) for i in range(1, items + 1))
    if movement_at is not None and type_code in ("IM", "EX") and "MovementDateTime" not in consignment_extra:
        stamp = recent_movement() if movement_at == RECENTLY else movement_at
        movement = f"<MovementDateTime>{stamp}</MovementDateTime>"
        before = min((at for tag in ("<TransportEquipment", "<PreviousDocument")
                      if (at := consignment_extra.find(tag)) >= 0), default=-1)
        consignment_extra = (consignment_extra[:before] + movement + consignment_extra[before:] if before >= 0
                             else consignment_extra + movement)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Declaration xmlns="{namespace}">
  <FunctionCode>{function_code}</FunctionCode>
  <FunctionalReferenceID>{lrn}</FunctionalReferenceID>
  <TypeCode>{type_code}</TypeCode>
  <IssueDateTime>2026-11-20T09:30:00+08:00</IssueDateTime>
  <Declarant><Name>Demo Trading Company Limited</Name><ID>{declarant}</ID></Declarant>
  <GoodsShipment>
    <Consignment><TransportModeCode>3</TransportModeCode><ControlPointID>HKLMC</ControlPointID>{consignment_extra}</Consignment>{goods}
  </GoodsShipment>
</Declaration>
""".encode()
