"""Builders for declaration documents in tests (valid unless told otherwise)."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from app.config import PROJECT_ROOT
from app.domain.risk import sample_draw
from app.risk.policy import load_policy

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


def undrawn(lrn: str, declarant: str = "12345678", **fields: Any) -> tuple[str, bytes]:
    """``lrn`` (or, should today's draw pick it, ``lrn`` with a suffix) and its declaration,
    which the random compliance sample of the rules' own lane policy does not draw. For tests
    against a served service, which keeps the policy's 1 %: the draw hashes the document,
    which holds yesterday's movement date, so a fixed LRN is drawn for the red lane on about
    one day in a hundred (and one of forty on four days in ten)."""
    policy = load_policy(PROJECT_ROOT / "rules" / "risk" / "lanes.toml")
    for attempt in range(1000):
        candidate = lrn if attempt == 0 else f"{lrn}-{attempt}"
        body = declaration_xml(lrn=candidate, declarant=declarant, **fields)
        if sample_draw(policy.sample_seed, f"{declarant}/{candidate}",
                       hashlib.sha256(body).hexdigest()) >= policy.sample_rate:
            return candidate, body
    raise AssertionError(f"the sample drew 1,000 LRNs in a row: is its rate ({policy.sample_rate}) 1?")
