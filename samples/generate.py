"""Write the large sample declarations, valid/import-50-items.xml and valid/import-500-items.xml.

Why this exists: tests and benchmarks need realistic declarations with many goods items,
and 500 hand-written items could neither be reviewed nor kept consistent (sequence
numbers, Totals, ISO 6346 check digits). The output is deterministic (no randomness, no
clock), so the committed files must equal what this script writes; ``--check`` says
whether they do, without writing anything.

Standard library only:

    python samples/generate.py          # (re)write the files
    python samples/generate.py --check  # exit 1 if a committed file differs
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

# (description, HS code, origin, tariff unit, unit price USD, net kg per unit, gross/net ratio)
CATALOGUE = [
    ("Notebook computers, 14-inch, 16 GB RAM, 512 GB SSD", "84713000", "CN", "H87", "490.00", "1.6", "1.28"),
    ("Smartphones, 6.1-inch, 128 GB, unlocked", "85171300", "CN", "H87", "285.00", "0.19", "1.68"),
    ("Lithium-ion power banks, 10000 mAh", "85076000", "CN", "H87", "12.00", "0.22", "1.21"),
    ("LCD monitors, 27-inch, for automatic data processing machines", "85285200", "VN", "H87", "185.00", "5.5", "1.23"),
    ("USB-C charging cables, 1 m, braided", "85444200", "CN", "H87", "1.25", "0.03", "1.21"),
    ("Wireless keyboards and mice, sets", "84716000", "CN", "H87", "9.80", "0.65", "1.30"),
    ("Solid state drives, 1 TB, NVMe", "84717000", "TW", "H87", "48.00", "0.008", "2.50"),
    ("Tablet computers, 10.9-inch, 64 GB", "84713000", "CN", "H87", "210.00", "0.48", "1.35"),
    ("Bluetooth wireless earphones with charging case", "85183000", "CN", "H87", "14.50", "0.06", "1.40"),
    ("Smart watches with heart-rate sensor", "85176200", "CN", "H87", "38.00", "0.05", "1.60"),
    ("LED light bulbs, E27, 9 W", "85395200", "CN", "H87", "0.85", "0.045", "1.35"),
    ("Electric kettles, stainless steel, 1.7 litre", "85164000", "CN", "H87", "11.20", "1.1", "1.25"),
    ("Hair dryers, 1800 W, foldable", "85163100", "MY", "H87", "8.40", "0.55", "1.30"),
    ("Plastic toy building bricks, sets", "95030000", "CN", "H87", "6.75", "0.42", "1.22"),
    ("Ballpoint pens, retractable", "96081000", "JP", "H87", "0.18", "0.009", "1.30"),
    ("Men's cotton trousers, woven", "62034200", "BD", "DZN", "54.00", "6.0", "1.12"),
    ("Women's knitted pullovers, wool", "61101100", "IT", "DZN", "210.00", "4.2", "1.15"),
    ("Sports footwear, rubber soles, textile uppers", "64041100", "VN", "PR", "16.50", "0.75", "1.45"),
    ("Travel bags, polyester outer surface", "42029200", "CN", "H87", "7.20", "0.9", "1.18"),
    ("Stainless steel cutlery sets, 24 pieces", "82159900", "DE", "H87", "21.00", "1.4", "1.20"),
    ("Porcelain tableware, dinner plates", "69111000", "TH", "H87", "2.10", "0.6", "1.35"),
    ("Ceramic floor tiles, glazed, 60 x 60 cm", "69072200", "ES", "MTK", "12.50", "21.0", "1.04"),
    ("Printed books, children's picture books", "49019900", "GB", "H87", "3.40", "0.35", "1.10"),
    ("Vitamin C tablets, retail packs", "21069099", "AU", "KGM", "26.00", "1.0", "1.30"),
    ("Instant noodles, retail packs", "19023000", "KR", "KGM", "2.40", "1.0", "1.15"),
]

# Owner code + category + 6-digit serial; the check digit is computed below.
CONTAINERS = ["CSQU305438", "OOLU184321", "COSU630117", "TGHU881249", "MSCU702264", "HLXU123456",
              "OOLU862215", "CAIU552871", "TEMU630284", "FCIU921430", "BMOU488120", "SEGU450913"]


def iso6346_check_digit(code: str) -> str:
    """ISO 6346 check digit of a 10-character owner code + category + serial."""
    values = {}
    value = 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    total = sum((values[c] if c.isalpha() else int(c)) * 2 ** i for i, c in enumerate(code))
    return str(total % 11 % 10)


def fmt(number: Decimal, places: int) -> str:
    """``number`` rounded to exactly ``places`` decimals (amounts: 2)."""
    return f"{number.quantize(Decimal(1).scaleb(-places)):f}"


def mass(number: Decimal) -> str:
    """A mass in kg to the gram, without trailing zeros."""
    text = fmt(number, 3)
    return text.rstrip("0").rstrip(".") if "." in text else text


def goods_item(seq: int) -> tuple[str, Decimal, Decimal]:
    """One goods item's XML, its gross mass (kg) and its value (USD)."""
    description, hs, origin, unit, price, net_per_unit, gross_ratio = CATALOGUE[(seq - 1) % len(CATALOGUE)]
    lot = (seq - 1) // len(CATALOGUE) + 1
    quantity = Decimal(20 * (1 + (seq * 7) % 9) * (5 if Decimal(price) < 10 else 1))
    net = quantity * Decimal(net_per_unit)
    gross = net * Decimal(gross_ratio)
    value = quantity * Decimal(price)
    if lot > 1:
        description = f"{description}, lot {lot}"
    xml = f"""    <GovernmentAgencyGoodsItem>
      <SequenceNumeric>{seq}</SequenceNumeric>
      <Commodity>
        <Description>{escape(description)}</Description>
        <Classification>
          <ID>{hs}</ID>
        </Classification>
      </Commodity>
      <Origin>
        <CountryCode>{origin}</CountryCode>
      </Origin>
      <GoodsMeasure>
        <TariffQuantity unitCode="{unit}">{quantity}</TariffQuantity>
        <NetMassMeasure unitCode="KGM">{mass(net)}</NetMassMeasure>
        <GrossMassMeasure unitCode="KGM">{mass(gross)}</GrossMassMeasure>
      </GoodsMeasure>
      <CustomsValueAmount currencyID="USD">{fmt(value, 2)}</CustomsValueAmount>
    </GovernmentAgencyGoodsItem>
"""
    return xml, Decimal(mass(gross)), value.quantize(Decimal("0.01"))


def moved(issued: str) -> str:
    """The goods arrived the day before the declaration was issued (same time of day)."""
    day = date.fromisoformat(issued[:10]) - timedelta(days=1)
    return day.isoformat() + issued[10:]


def declaration(items: int, lrn: str, issued: str, containers: int) -> str:
    equipment = "".join(
        f"""      <TransportEquipment>
        <SequenceNumeric>{n}</SequenceNumeric>
        <ID>{code}{iso6346_check_digit(code)}</ID>
        <Seal>
          <ID>SL{700000 + 137 * n:07d}</ID>
        </Seal>
      </TransportEquipment>
"""
        for n, code in enumerate(CONTAINERS[:containers], start=1)
    )
    body, total_gross, total_value = [], Decimal(0), Decimal(0)
    for seq in range(1, items + 1):
        xml, gross, value = goods_item(seq)
        body.append(xml)
        total_gross += gross
        total_value += value
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Declaration xmlns="urn:csw:declaration:v1" schemaVersion="1.0">
  <FunctionCode>9</FunctionCode>
  <FunctionalReferenceID>{lrn}</FunctionalReferenceID>
  <TypeCode>IM</TypeCode>
  <FormCode>1</FormCode>
  <IssueDateTime>{issued}</IssueDateTime>
  <Declarant>
    <Name>Demo Trading Company Limited</Name>
    <ID>12345678</ID>
  </Declarant>
  <Importer>
    <Name>Demo Trading Company Limited</Name>
    <ID>12345678</ID>
  </Importer>
  <GoodsShipment>
    <Consignment>
      <TransportModeCode>1</TransportModeCode>
      <ConveyanceID>9811000</ConveyanceID>
      <ControlPointID>HKKCG</ControlPointID>
      <DepartureLocationID>CNYTN</DepartureLocationID>
      <MovementDateTime>{moved(issued)}</MovementDateTime>
{equipment}    </Consignment>
{"".join(body)}  </GoodsShipment>
  <Totals>
    <GoodsItemQuantity>{items}</GoodsItemQuantity>
    <GrossMassMeasure unitCode="KGM">{mass(total_gross)}</GrossMassMeasure>
    <CustomsValueAmount currencyID="USD">{fmt(total_value, 2)}</CustomsValueAmount>
  </Totals>
</Declaration>
"""


DOCUMENTS = {
    "valid/import-50-items.xml": lambda: declaration(50, "DTC-IM-2026-000150", "2026-11-18T10:15:00+08:00", 2),
    "valid/import-500-items.xml": lambda: declaration(500, "DTC-IM-2026-000500", "2026-11-19T10:15:00+08:00", 12),
}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, build in DOCUMENTS.items():
        path = HERE / name
        content = build().encode("utf-8")
        if check:
            if not path.exists() or path.read_bytes() != content:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            print(f"wrote {name} ({len(content)} bytes)")
    for name in stale:
        print(f"{name} differs from generate.py's output; run python samples/generate.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
