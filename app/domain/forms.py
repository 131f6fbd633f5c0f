"""Which TDEC form the goods call for.

The Census and Statistics Department's "Types of Import/Export Declarations": form 1 for
imports of non-food items, 1A for imports of food items only, 1B for imports of articles
exempted from the declaration charge; form 2 for exports and re-exports, 2A for exports of
Hong Kong-made clothing (and footwear) under the Clothing Industry Training Levy, 2B for
articles exempted from the charge. A declaration on the wrong form is deemed not lodged,
so the rules refuse a mismatch (``rules/packs/core.toml``, R8xx) and the charges follow the
form the goods call for when none is given. Transhipment cargo is an exempted article: it
needs no TDEC, so a transhipment has no form at all.

Pure: what counts as food or levied clothing comes in as predicates over HS codes (the code
lists ``rules/codelists/food_headings.csv`` and ``clothing_levy_goods.csv``).
"""
from __future__ import annotations

from collections.abc import Callable

from app.domain.declaration import Declaration, DeclarationType, GoodsItem

IMPORT_FORMS = frozenset({"1", "1A", "1B"})
EXPORT_FORMS = frozenset({"2", "2A", "2B"})
FOOD_FORM = "1A"
LEVY_FORM = "2A"
EXEMPT_FORMS = frozenset({"1B", "2B"})
LEVY_ORIGIN = "HK"  # "Hong Kong made"

HsTest = Callable[[str], bool]


def forms_for(kind: DeclarationType) -> frozenset[str]:
    """The forms a declaration of ``kind`` may be lodged on (none for a transhipment)."""
    return {DeclarationType.IMPORT: IMPORT_FORMS, DeclarationType.EXPORT: EXPORT_FORMS}.get(kind, frozenset())


def is_levied_clothing(item: GoodsItem, is_clothing: HsTest) -> bool:
    """Hong Kong-made clothing or footwear: the goods of form 2A and the levy."""
    return item.origin_country == LEVY_ORIGIN and is_clothing(item.hs_code)


def goods_form(declaration: Declaration, is_food: HsTest, is_clothing: HsTest) -> str | None:
    """The form the goods call for: an import of food items only is 1A, other imports 1;
    an export carrying Hong Kong-made clothing or footwear is 2A, other exports 2; a
    transhipment none. (A charge-exempt form needs a reason from the trader, so it is never
    assumed.)"""
    items = declaration.goods_items
    if declaration.type is DeclarationType.IMPORT:
        return FOOD_FORM if items and all(is_food(item.hs_code) for item in items) else "1"
    if declaration.type is DeclarationType.EXPORT:
        return LEVY_FORM if any(is_levied_clothing(item, is_clothing) for item in items) else "2"
    return None


def stated_form(declaration: Declaration) -> str | None:
    """The form code as the trader gave it, normalised (None when absent or blank)."""
    return str(declaration.form_code or "").strip().upper() or None


def effective_form(declaration: Declaration, is_food: HsTest, is_clothing: HsTest) -> tuple[str | None, bool]:
    """The form the declaration is judged and charged on, and whether it was assumed: the
    stated one, else the one the goods call for."""
    stated = stated_form(declaration)
    if stated is not None:
        return stated, False
    return goods_form(declaration, is_food, is_clothing), True
