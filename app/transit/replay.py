"""Realistic gateway traffic for a route: a truck sealed at the origin, reporting its position
every so often while it drives the corridor at a steady speed, unsealed at the destination.
Used by the tests (clean runs, detours, tampering, overdue trucks), the benchmark and
``samples/elock``."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from app.domain.transit import ReadingKind
from app.transit.network import LAT0, LON0, Route, _M_PER_DEG_LAT, _M_PER_DEG_LON, project
from app.transit.telemetry import GatewayEvent


def along(route: Route, fraction: float) -> tuple[float, float]:
    """The (longitude, latitude) at ``fraction`` (0..1) of the route's length."""
    xs, ys = project(np.array([p[0] for p in route.path]), np.array([p[1] for p in route.path]))
    legs = np.hypot(np.diff(xs), np.diff(ys))
    target = float(np.clip(fraction, 0.0, 1.0)) * float(legs.sum())
    done = 0.0
    for index, leg in enumerate(legs):
        if done + leg >= target or index == len(legs) - 1:
            share = 0.0 if leg == 0 else min(1.0, (target - done) / leg)
            x = xs[index] + share * (xs[index + 1] - xs[index])
            y = ys[index] + share * (ys[index + 1] - ys[index])
            return round(float(x / _M_PER_DEG_LON + LON0), 6), round(float(y / _M_PER_DEG_LAT + LAT0), 6)
        done += float(leg)
    return route.path[-1]


def length_m(route: Route) -> float:
    xs, ys = project(np.array([p[0] for p in route.path]), np.array([p[1] for p in route.path]))
    return float(np.hypot(np.diff(xs), np.diff(ys)).sum())


def offset(position: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    """A position moved by metres east and north (to leave the corridor on purpose)."""
    return (round(position[0] + east_m / _M_PER_DEG_LON, 6), round(position[1] + north_m / _M_PER_DEG_LAT, 6))


def clean_run(route: Route, elock_id: str, start: datetime, prefix: str, speed_kmh: float = 50.0,
              every: timedelta = timedelta(minutes=2)) -> list[GatewayEvent]:
    """Seal at the origin, positions along the corridor, unseal at the destination."""
    total = timedelta(hours=length_m(route) / 1000.0 / speed_kmh)
    count = max(2, int(total / every))
    events = [GatewayEvent(f"{prefix}-000", elock_id, ReadingKind.SEAL, start, *reversed(along(route, 0.0)))]
    for n in range(1, count + 1):
        lon, lat = along(route, n / count)
        events.append(GatewayEvent(f"{prefix}-{n:03d}", elock_id, ReadingKind.POSITION, start + every * n, lat, lon))
    lon, lat = along(route, 1.0)
    unsealed = start + every * count + timedelta(minutes=1)
    events.append(GatewayEvent(f"{prefix}-end", elock_id, ReadingKind.UNSEAL, unsealed, lat, lon))
    return events
