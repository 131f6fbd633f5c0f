"""The shipped code lists load, cover every code the valid samples use, and every check in
the loader names the right file and line when a list is broken."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from app.reference.codelists import (
    DEFAULT_DIRECTORY,
    CONTROLS_KEPT,
    CodeListError,
    CodeLists,
    load_code_lists,
)

ROOT = Path(__file__).resolve().parents[2]
VALID = sorted((ROOT / "samples" / "valid").glob("*.xml"))
NS = {"d": "urn:csw:declaration:v1"}


@pytest.fixture(scope="module")
def lists() -> CodeLists:
    return load_code_lists(DEFAULT_DIRECTORY)


def _samples():
    for path in VALID:
        yield path, etree.parse(str(path)).getroot()


def _items(root):
    """(position, HS code, [(document type, id)]) of each goods item."""
    for position, item in enumerate(root.iterfind(".//d:GovernmentAgencyGoodsItem", NS), start=1):
        hs = item.findtext("d:Commodity/d:Classification/d:ID", namespaces=NS)
        docs = [
            (d.findtext("d:TypeCode", namespaces=NS), d.findtext("d:ID", namespaces=NS))
            for d in item.iterfind("d:AdditionalDocument", NS)
        ]
        yield position, hs, docs


# ---------------------------------------------------------------- the shipped lists


def test_shipped_lists_load(lists: CodeLists) -> None:
    assert DEFAULT_DIRECTORY == ROOT / "rules" / "codelists"
    chapters = {c for c, e in lists.hs_codes.items() if e.level == "chapter"}
    assert chapters == {f"{n:02d}" for n in range(1, 98)} - {"77"}  # 77 is reserved: omitted
    assert sum(e.level == "item" for e in lists.hs_codes.values()) >= 200
    assert {"HK", "CN", "MO", "US", "DE"} <= lists.countries
    assert {"HKD", "USD", "CNY", "MOP", "EUR"} <= lists.currencies
    assert "BO" in lists.package_types and "BO" not in lists.units  # Rec 21, not Rec 20
    assert repr(lists).startswith("CodeLists(countries=")


def test_hs6_is_known_from_the_whole_hs_2022_nomenclature(lists: CodeLists) -> None:
    """5,613 subheadings: any code whose first six digits are one of them exists in the
    Harmonized System (a 10-digit DEC-DMS code too), whether or not Hong Kong lists the item."""
    assert len(lists.hs_subheadings) == 5612  # 5,613 rows less UN Comtrade's 999999
    assert lists.hs6_known("851713") and lists.hs6_known("85171300") and lists.hs6_known("8517130000")
    assert lists.hs6_known("010121") and not lists.hs_code_known("01012100")
    assert not lists.hs6_known("851715") and not lists.hs6_known("99999999")
    assert not lists.hs6_known("8517") and not lists.hs6_known("８５１７１３") and not lists.hs6_known("")
    assert lists.hs_item_unlisted("85171399") and not lists.hs_item_unlisted("85171300")
    assert not lists.hs_item_unlisted("85171599") and not lists.hs_item_unlisted("851713")


def test_every_listed_item_sits_under_an_hs_2022_subheading(tmp_path: Path) -> None:
    directory = tmp_path / "codelists"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    with (directory / "hs_codes.csv").open("a", encoding="utf-8") as csv:
        csv.write("85171599,item,No such subheading,不存在的子目\n")
    with pytest.raises(CodeListError) as raised:
        load_code_lists(directory)
    assert raised.value.path.name == "hs2022.csv" and "851715" in str(raised.value)


def test_lists_are_read_only(lists: CodeLists) -> None:
    with pytest.raises(TypeError):
        lists.hs_codes["99999999"] = None  # type: ignore[index]


@pytest.mark.parametrize(
    "code",
    ["22083000", "22084000", "22085000", "22086000", "22087000", "22089000", "22042100",
     "22030000", "24021000", "24022000", "24031100", "24031900", "24039900", "27101211",
     "29051100", "30049000", "38089100", "29037100", "85423100", "93020000", "95030000",
     "91021100", "71131910", "39232100", "94036000", "02023000", "10063000", "20099000"],
)
def test_dutiable_controlled_and_typical_codes_are_listed(lists: CodeLists, code: str) -> None:
    assert lists.hs_code_known(code)
    assert lists.hs_heading_known(code)


def test_hs_code_known_means_listed_as_item(lists: CodeLists) -> None:
    assert lists.hs_code_known("84713000")
    assert not lists.hs_code_known("8471")  # a heading is not a declarable code
    assert not lists.hs_code_known("84719999")  # heading listed, item not
    assert lists.hs_heading_known("84719999")
    assert lists.hs_heading("84719999").code == "8471"
    assert not lists.hs_heading_known("77010000")
    assert not lists.hs_heading_known("84")
    assert lists.hs_heading("abc") is None


def test_every_code_used_by_the_valid_samples_is_known(lists: CodeLists) -> None:
    assert VALID, "no samples found"
    for path, root in _samples():
        where = path.name
        for _, hs, _ in _items(root):
            assert lists.hs_code_known(hs), f"{where}: HS {hs}"
        for element in root.iter():
            unit = element.get("unitCode")
            if unit is not None:
                assert unit in lists.units, f"{where}: unit {unit}"
            currency = element.get("currencyID")
            if currency is not None:
                assert currency in lists.currencies, f"{where}: currency {currency}"
        for code in root.iterfind(".//d:CountryCode", NS):
            assert code.text in lists.countries, f"{where}: country {code.text}"
        for package in root.iterfind(".//d:Packaging/d:TypeCode", NS):
            assert package.text in lists.package_types, f"{where}: package {package.text}"
        consignment = root.find("d:GoodsShipment/d:Consignment", NS)
        for tag in ("ControlPointID", "DepartureLocationID", "DestinationLocationID"):
            code = consignment.findtext(f"d:{tag}", namespaces=NS)
            if code is not None:
                assert code in lists.locations, f"{where}: {tag} {code}"
        control_point = consignment.findtext("d:ControlPointID", namespaces=NS)
        if control_point is not None:
            assert control_point in lists.control_points, f"{where}: control point {control_point}"


def test_named_control_points(lists: CodeLists) -> None:
    names = {cp.name_en: code for code, cp in lists.control_points.items()}
    for name in ("Lok Ma Chau", "Man Kam To", "Sha Tau Kok", "Shenzhen Bay", "Heung Yuen Wai",
                 "Hong Kong-Zhuhai-Macao Bridge", "Hong Kong International Airport",
                 "Kwai Chung", "Air Mail Centre"):
        assert any(n.startswith(name) for n in names), name
    assert lists.control_points["HKLMC"].boundary == "shenzhen"
    assert lists.control_points["HKHZM"].boundary == "zhuhai_macao"
    assert lists.control_points["HKKCG"].kind == "port"
    for code in lists.control_points:
        assert code in lists.locations
    for code in ("CNSZX", "CNSHK", "CNYTN", "CNCAN", "CNHUA", "CNDGG", "CNZUH", "CNZSN",
                 "CNFOS", "CNJMN", "CNHUI", "CNXMN", "CNFOC", "CNCSX", "MOMFM"):
        assert code in lists.locations, code


def test_units_and_package_types(lists: CodeLists) -> None:
    for code in ("KGM", "GRM", "TNE", "LTR", "MLT", "MTR", "MTK", "MTQ", "MMT", "C62", "H87",
                 "PCE", "NPR", "DZN", "SET", "PR", "MIL"):
        assert code in lists.units, code
    assert lists.units["KGM"].kind == "mass" and lists.units["MTK"].kind == "area"
    for code in ("CT", "BX", "PK", "BG", "BO", "CS", "PL", "PX", "DR", "CR", "BA", "CN", "RO",
                 "BL", "SA", "TB", "BE", "NE", "PA"):
        assert code in lists.package_types, code


# ---------------------------------------------------------------- controlled goods


def _keys(entries):
    return [(e.hs_prefix, e.licence_type, e.requirement) for e in entries]


def test_controls_found_are_kept_within_bounds_and_unchanged(lists: CodeLists) -> None:
    """``controls_for`` keeps what it found per (HS code, type): the same answer the second
    time, a list the caller may change without changing the next answer, and no more pairs
    than ``CONTROLS_KEPT`` however many codes documents bring."""
    fresh = load_code_lists(DEFAULT_DIRECTORY)
    first = fresh.controls_for("24022000", "IM")
    first.clear()
    assert fresh.controls_for("24022000", "IM") == lists.controls_for("24022000", "IM") != []
    for n in range(CONTROLS_KEPT + 10):
        fresh.controls_for(f"{n:08d}", "IM")
    assert len(fresh._controls_found) <= CONTROLS_KEPT
    assert _keys(fresh.controls_for("93020000", "TS")) == [("9302", "AR", "mandatory")]


def test_controls_for_picks_prefix_and_type(lists: CodeLists) -> None:
    assert _keys(lists.controls_for("93020000", "TS")) == [("9302", "AR", "mandatory")]
    assert _keys(lists.controls_for("30049000", "IM")) == [("3004", "PH", "mandatory")]
    assert lists.controls_for("30049000", "TS") == []  # pharmaceuticals: IM EX only
    assert _keys(lists.controls_for("29037100", "EX")) == [("290371", "OD", "mandatory")]
    assert _keys(lists.controls_for("38089100", "IM")) == [("380891", "PE", "mandatory")]
    assert lists.controls_for("38089400", "IM") == []  # disinfectants are not pesticides
    assert _keys(lists.controls_for("85176200", "IM")) == [("851762", "IL", "indicative")]
    assert _keys(lists.controls_for("85176200", "EX")) == [("851762", "EL", "indicative")]
    assert lists.controls_for("85176200", "TS") == []
    assert lists.controls_for("84713000", "IM") == []
    entry = lists.controls_for("24022000", "IM")[0]
    assert (entry.category, entry.licence_type, entry.authority_en) == (
        "dutiable_tobacco", "DC", "Customs and Excise Department")
    assert entry.applies_to == frozenset({"IM", "EX"})


def test_controls_for_longest_prefix_wins_within_a_category(lists: CodeLists) -> None:
    assert _keys(lists.controls_for("22083000", "IM")) == [("2208", "DC", "mandatory")]
    # liqueurs are often 30% vol or less (not dutiable): the 8-digit row refines the 4-digit one
    assert _keys(lists.controls_for("22087000", "IM")) == [("22087000", "DC", "indicative")]


def test_controls_for_stacks_different_controls(tmp_path: Path) -> None:
    directory = _copy_lists(tmp_path)
    with open(directory / "controlled_goods.csv", "a", encoding="utf-8") as f:
        f.write("2208,dutiable_liquor,XL,^XL\\d{4}$,Somebody,某部門,IM,mandatory\n")
        f.write("8542,export_review,RV,^RV\\d{4}$,Somebody,某部門,IM,indicative\n")
    lists = load_code_lists(directory)
    assert _keys(lists.controls_for("22083000", "IM")) == [
        ("2208", "DC", "mandatory"), ("2208", "XL", "mandatory")]
    assert {k[1] for k in _keys(lists.controls_for("85423100", "IM"))} == {"IL", "RV"}
    assert lists.controls_for("85423100", "TS") == []


def test_licence_patterns(lists: CodeLists) -> None:
    il = lists.controls_for("85176200", "IM")[0]
    assert il.accepts("SC-IL-2026-004517")
    assert not il.accepts("SC-IL-2026-004517X")
    assert not il.accepts("SC-EL-2026-004517")
    dc = lists.controls_for("22083000", "IM")[0]
    assert dc.accepts("DC-2026-000123") and not dc.accepts("DC2026000123")


def test_import_with_licence_passes_by_its_own_licence(lists: CodeLists) -> None:
    root = etree.parse(str(ROOT / "samples" / "valid" / "import-with-licence.xml")).getroot()
    _, hs, docs = next(_items(root))
    controls = lists.controls_for(hs, "IM")
    assert [c.licence_type for c in controls] == ["IL"]
    assert any(t == "IL" and controls[0].accepts(i) for t, i in docs)


# Valid-sample goods items that match a mandatory control but carry no matching licence:
# reported to the sample owners (the samples predate the controlled-goods table).
KNOWN_SAMPLE_GAPS: set[tuple[str, int, str]] = set()


def test_no_new_mandatory_licence_gaps_in_valid_samples(lists: CodeLists) -> None:
    gaps = set()
    for path, root in _samples():
        declaration_type = root.findtext("d:TypeCode", namespaces=NS)
        for position, hs, docs in _items(root):
            for control in lists.controls_for(hs, declaration_type):
                present = [i for t, i in docs if t == control.licence_type]
                # a document of the licence type, when present, must match its pattern
                assert all(control.accepts(i) for i in present), (path.name, position, present)
                if control.mandatory and not present:
                    gaps.add((path.name, position, control.licence_type))
    assert gaps <= KNOWN_SAMPLE_GAPS, sorted(gaps - KNOWN_SAMPLE_GAPS)


# ---------------------------------------------------------------- broken lists

FILES = ("hs_codes.csv", "locations.csv", "control_points.csv", "units.csv",
         "package_types.csv", "controlled_goods.csv")

MINIMAL = {
    "hs_codes.csv": "code,level,name_en,name_zh\n84,chapter,Machinery,機器\n"
                    "8471,heading,Computers,電腦\n84713000,item,Notebooks,手提電腦\n",
    "locations.csv": "code,name_en,name_zh,country,kind\nHKHKG,Hong Kong,香港,HK,city\n"
                     "HKLMC,Lok Ma Chau,落馬洲,HK,land_control_point\n",
    "control_points.csv": "code,name_en,name_zh,kind,boundary\n"
                          "HKLMC,Lok Ma Chau,落馬洲,land_control_point,shenzhen\n",
    "units.csv": "code,name_en,name_zh,kind\nKGM,kilogram,公斤,mass\nH87,piece,件,count\n",
    "package_types.csv": "code,name_en,name_zh\nCT,carton,紙箱\nBO,bottle,瓶\n",
    "controlled_goods.csv": "hs_prefix,category,licence_type,licence_id_pattern,authority_en,"
                            "authority_zh,applies_to\n"
                            "8471,strategic_commodities,IL,^SC-IL-\\d{4}-\\d{6}$,TID,工業貿易署,IM\n",
    "food_headings.csv": "hs_prefix,name_en,name_zh\n02,Meat,肉\n0402,Milk,奶\n",
    "clothing_levy_goods.csv": "hs_prefix,name_en,name_zh\n61,Knitted apparel,針織服裝\n",
    "charge_exemptions.csv": "code,name_en,name_zh,applies_to,hs_prefixes\nGOLD,Gold bars,金條,IM EX,71081210\n",
}


def _copy_lists(tmp_path: Path) -> Path:
    directory = tmp_path / "shipped"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    return directory


def _write(tmp_path: Path, **overrides: str) -> Path:
    for name, text in {**MINIMAL, **{k + ".csv": v for k, v in overrides.items()}}.items():
        (tmp_path / name).write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return tmp_path


def _error(tmp_path: Path, **overrides: str) -> CodeListError:
    with pytest.raises(CodeListError) as caught:
        load_code_lists(_write(tmp_path, **overrides))
    return caught.value


def test_minimal_lists_load(tmp_path: Path) -> None:
    lists = load_code_lists(_write(tmp_path))
    assert lists.hs_code_known("84713000")
    assert lists.controlled_goods[0].requirement == "mandatory"  # column is optional
    assert list(lists.control_points) == ["HKLMC"]


def test_error_str_is_file_line_reason() -> None:
    error = CodeListError("rules/codelists/units.csv", 7, "bad")
    assert str(error) == "rules/codelists/units.csv:7: bad"
    assert (error.path, error.line, error.reason) == (Path("rules/codelists/units.csv"), 7, "bad")


H = MINIMAL["hs_codes.csv"]
L = MINIMAL["locations.csv"]
CP = MINIMAL["control_points.csv"]
U = MINIMAL["units.csv"]
P = MINIMAL["package_types.csv"]
CG = MINIMAL["controlled_goods.csv"]
CG_ROW = "8471,strategic_commodities,IL,^SC-IL-\\d{4}-\\d{6}$,TID,工業貿易署,IM\n"
CG_HEADER = CG.splitlines()[0]


@pytest.mark.parametrize(
    "file, text, line, reason",
    [
        # structure (any file)
        ("units", "code,name_en,kind\nKGM,kilogram,mass\n", 1, "missing column(s): name_zh"),
        ("units", U.replace("kind\n", "kind,colour\n", 1), 1, "unknown column(s): colour"),
        ("units", "", 1, "no header row"),
        ("units", U + "GRM,gram,克\n", 4, "expected 4 fields, found 3"),
        ("units", U + "\n\nGRM,gram,克,mass,extra\n", 6, "expected 4 fields, found 5"),
        ("units", U + 'GRM,"gram,克,mass\n', 4, "malformed CSV"),
        ("package_types", "code,name_en,name_zh\nCT,carton,紙箱\n".encode()
         + b"BX,box,\xff\n", 3, "not valid UTF-8"),
        # HS codes
        ("hs_codes", H + "8471300,item,Seven digits,七位\n", 5, "is not an HS code"),
        ("hs_codes", H + "84713O00,item,Letter O,字母\n", 5, "is not an HS code"),
        ("hs_codes", H + "84714100,heading,Wrong level,錯誤\n", 5, "does not match the 8-digit"),
        ("hs_codes", H + "84714100,leaf,Unknown level,未知\n", 5, "level 'leaf' is not one of"),
        ("hs_codes", H + "84713000,item,Again,重複\n", 5, "duplicate code '84713000' (first on line 4)"),
        ("hs_codes", H + "85171300,item,Orphan,孤兒\n", 5, "its heading 8517 is not listed"),
        ("hs_codes", H + "8517,heading,Orphan,孤兒\n", 5, "its chapter 85 is not listed"),
        ("hs_codes", H + "847130,subheading,Orphan ok,子目\n84729000,item,Orphan,孤兒\n", 6,
         "its heading 8472 is not listed"),
        ("hs_codes", H + "77,chapter,Reserved,保留\n", 5, "chapter 77 is reserved"),
        ("hs_codes", H + "84716000,item,,鍵盤\n", 5, "name_en is empty"),
        ("hs_codes", H + "84716000,item,Keyboards,  \n", 5, "name_zh is empty"),
        # locations
        ("locations", L + "HKKC1,Kwai Chung,葵涌,HK,port\n", 4, "is not a UN/LOCODE"),
        ("locations", L + "hkkcg,Kwai Chung,葵涌,HK,port\n", 4, "is not a UN/LOCODE"),
        ("locations", L + "HKKCG,Kwai Chung,葵涌,CN,port\n", 4, "does not start with its country CN"),
        ("locations", L + "XXKCG,Nowhere,無處,XX,port\n", 4, "country 'XX' is not an ISO 3166-1"),
        ("locations", L + "HKKCG,Kwai Chung,葵涌,HK,harbour\n", 4, "kind 'harbour' is not one of"),
        ("locations", L + "HKHKG,Hong Kong,香港,HK,city\n", 4, "duplicate code 'HKHKG' (first on line 2)"),
        # control points
        ("control_points", CP + "HKMKT,Man Kam To,文錦渡,land_control_point,shenzhen\n", 3,
         "HKMKT is not in locations.csv"),
        ("control_points", CP + "HKHKG,Airport,機場,airport,sky\n", 3, "boundary 'sky' is not one of"),
        ("control_points", CP + "HKHKG,Airport,機場,city,air\n", 3, "kind 'city' is not one of"),
        ("control_points", CP + "HKLMC,Again,重複,land_control_point,shenzhen\n", 3, "duplicate code 'HKLMC'"),
        ("control_points", CP + "HK1,Short,短,airport,air\n", 3, "is not a UN/LOCODE"),
        # units
        ("units", U + "K,k,千,mass\n", 4, "is not a UN/ECE Rec 20 code"),
        ("units", U + "KGMS,k,千,mass\n", 4, "is not a UN/ECE Rec 20 code"),
        ("units", U + "GRM,gram,克,weight\n", 4, "kind 'weight' is not one of"),
        ("units", U + "KGM,kilogram,公斤,mass\n", 4, "duplicate code 'KGM' (first on line 2)"),
        # package types
        ("package_types", P + "CTN,carton,紙箱\n", 4, "is not a UN/ECE Rec 21 code"),
        ("package_types", P + "ct,carton,紙箱\n", 4, "is not a UN/ECE Rec 21 code"),
        ("package_types", P + "CT,carton,紙箱\n", 4, "duplicate code 'CT' (first on line 2)"),
        # controlled goods
        ("controlled_goods", CG_HEADER + "\n" + CG_ROW.replace("^SC-IL-\\d{4}-\\d{6}$", "^SC(\\d{8}$"),
         2, "does not compile"),
        ("controlled_goods", CG_HEADER + "\n" + CG_ROW.replace("^SC-IL-\\d{4}-\\d{6}$", "^\\d*$"),
         2, "accepts an empty licence reference"),
        ("controlled_goods", CG + CG_ROW.replace(",IM\n", ",IM XX\n").replace("8471", "8517"), 3,
         "applies_to 'XX' is not a subset of IM EX TS"),
        ("controlled_goods", CG + CG_ROW.replace(",IM\n", ",\n").replace("8471", "8517"), 3,
         "applies_to is empty"),
        ("controlled_goods", CG + CG_ROW.replace(",IM\n", ",IM IM\n").replace("8471", "8517"), 3,
         "applies_to repeats"),
        ("controlled_goods", CG + CG_ROW.replace("8471", "8"), 3, "is not an HS code prefix"),
        ("controlled_goods", CG + CG_ROW.replace("8471", "7701"), 3, "chapter 77 is reserved"),
        ("controlled_goods", CG + CG_ROW.replace(",IL,", ",il,").replace("8471", "8517"), 3,
         "licence_type 'il' is not a document type code"),
        ("controlled_goods", CG + CG_ROW.replace("strategic_commodities", "Strategic Goods"), 3,
         "category 'Strategic Goods' is not a lower-case identifier"),
        ("controlled_goods", CG + CG_ROW, 3,
         "duplicate hs_prefix and licence_type ('8471', 'IL') (first on line 2)"),
        ("controlled_goods", CG_HEADER + ",requirement\n" + CG_ROW.replace("\n", ",sometimes\n"), 2,
         "requirement 'sometimes' is not one of"),
        ("controlled_goods", CG + CG_ROW.replace(",TID,", ",,").replace("8471", "8517"), 3,
         "authority_en is empty"),
    ],
)
def test_broken_list_names_file_and_line(tmp_path, file, text, line, reason) -> None:
    error = _error(tmp_path, **{file: text})
    assert Path(error.path).name == f"{file}.csv"
    assert error.line == line, str(error)
    assert reason in error.reason, str(error)
    assert str(error).startswith(f"{error.path}:{line}: ")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    _write(tmp_path)
    (tmp_path / "units.csv").unlink()
    with pytest.raises(CodeListError) as caught:
        load_code_lists(tmp_path)
    assert Path(caught.value.path).name == "units.csv"
    assert caught.value.line == 0
    assert caught.value.reason == "file not found"


def test_first_problem_is_reported(tmp_path: Path) -> None:
    error = _error(tmp_path, units=U + "k,bad,壞,mass\nKGM,dup,重複,mass\n")
    assert error.line == 4


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    units = "\ufeff" + U.replace("\n", "\r\n")
    lists = load_code_lists(_write(tmp_path, units=units))
    assert set(lists.units) == {"KGM", "H87"}


@pytest.mark.parametrize("name", FILES)
def test_every_shipped_file_is_checked(tmp_path: Path, name: str) -> None:
    directory = _copy_lists(tmp_path)
    with open(directory / name, "a", encoding="utf-8") as f:
        f.write("!,!,!\n")
    with pytest.raises(CodeListError) as caught:
        load_code_lists(directory)
    assert Path(caught.value.path).name == name
    assert caught.value.line == len((directory / name).read_text(encoding="utf-8").splitlines())


# --- the goods of the TDEC forms ----------------------------------------------------------

def test_food_and_levied_clothing_are_matched_by_prefix(tmp_path: Path) -> None:
    lists = load_code_lists(_write(tmp_path))
    assert lists.is_food("02023000") and lists.is_food("04021000")
    assert not lists.is_food("04061000") and not lists.is_food("84713000")
    assert lists.is_clothing_levy_goods("61091000") and not lists.is_clothing_levy_goods("62052000")


def test_a_charge_exemption_covers_its_types_and_goods(tmp_path: Path) -> None:
    gold = load_code_lists(_write(tmp_path)).charge_exemptions["GOLD"]
    assert gold.covers("71081210", "IM") and gold.covers("71081210", "EX")
    assert not gold.covers("71081200", "IM") and not gold.covers("71081210", "TS")


def test_the_shipped_form_goods_lists_load() -> None:
    lists = load_code_lists(DEFAULT_DIRECTORY)
    assert lists.is_food("02023000") and lists.is_food("22083000") and not lists.is_food("24022000")
    assert not lists.is_food("23091000")  # pet food is not a food item
    assert all(lists.is_clothing_levy_goods(code) for code in ("61091000", "62052000", "64041100"))
    assert {"GOLD", "AIRCRAFT"} <= set(lists.charge_exemptions)


@pytest.mark.parametrize(("name", "text", "reason"), [
    ("food_headings", "hs_prefix,name_en,name_zh\n7a,Bad,壞\n", "is not an HS code prefix"),
    ("food_headings", "hs_prefix,name_en,name_zh\n02,Meat,肉\n02,Meat,肉\n", "duplicate hs_prefix"),
    ("clothing_levy_goods", "hs_prefix,name_en,name_zh\n77,Reserved,保留\n", "reserved"),
    ("charge_exemptions", "code,name_en,name_zh,applies_to,hs_prefixes\nGOLD,Gold,金,TS,\n", "IM, EX or both"),
    ("charge_exemptions", "code,name_en,name_zh,applies_to,hs_prefixes\ngold,Gold,金,IM,\n", "is not a reason code"),
    ("charge_exemptions", "code,name_en,name_zh,applies_to,hs_prefixes\nGOLD,Gold,金,IM,71x\n", "hs_prefixes"),
])
def test_form_goods_lists_are_checked(tmp_path: Path, name: str, text: str, reason: str) -> None:
    error = _error(tmp_path, **{name: text})
    assert error.path.name == f"{name}.csv" and reason in error.reason
