"""Hong Kong time: lodgement periods, rule dates and registry days are counted in it."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

HONG_KONG = timezone(timedelta(hours=8), "HKT")


def hong_kong_date(moment: datetime) -> date:
    """The calendar day in Hong Kong (at the calendar's edges, where conversion overflows,
    the day as written)."""
    try:
        return moment.astimezone(HONG_KONG).date()
    except OverflowError:
        return moment.date()
