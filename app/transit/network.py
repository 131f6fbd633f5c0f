"""The approved route network (``rules/transit``): clearance points, corridors and limits.

Loaded once and validated strictly: anything wrong stops start-up with ``file:line: reason``
(``RulesDataError``), like the rule packs. Corridors are buffered in metres on a local
plane (an equirectangular projection about 22.4°N, accurate to well under 1% across the
Pearl River Delta) and prepared, so placing a batch of readings is a few vectorised calls.
"""
from __future__ import annotations

import math
import re
import threading
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from app.config import Settings
from app.domain.transit import Limits
from app.domain.problems import RulesDataError

POINT_KINDS = frozenset({"airport", "port", "land_control_point", "inland_clearance_point", "postal_exchange"})
SIDES = frozenset({"hk", "partner"})
_POINT_KEYS = {"code", "name", "kind", "side", "longitude", "latitude", "radius_metres"}
_ROUTE_KEYS = {"code", "origin", "control_point", "destination", "buffer_metres", "max_journey_minutes",
               "max_stop_minutes", "path"}
_MONITORING_KEYS = {"silence_minutes", "stop_radius_metres", "accredited_suppliers"}
POINT_CODE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")
ROUTE_CODE = re.compile(r"[A-Z0-9][A-Z0-9\-]{2,29}")

LAT0 = 22.4
LON0 = 114.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))


def project(longitude: Any, latitude: Any) -> tuple[Any, Any]:
    """WGS84 degrees -> metres on the local plane (works on floats and numpy arrays)."""
    return (longitude - LON0) * _M_PER_DEG_LON, (latitude - LAT0) * _M_PER_DEG_LAT


@dataclass(frozen=True)
class ClearancePoint:
    code: str
    name: str
    kind: str
    side: str
    longitude: float
    latitude: float
    radius_m: float


@dataclass(frozen=True)
class Route:
    code: str
    origin: str
    control_point: str
    destination: str
    buffer_m: float
    max_journey: timedelta
    max_stop: timedelta
    path: tuple[tuple[float, float], ...]
    corridor: Polygon = field(repr=False, compare=False)  # a line's buffer

    def contains(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Which projected positions lie in the corridor (prepared geometry, vectorised)."""
        return shapely.contains_xy(self.corridor, xs, ys)

    def corridor_geojson(self) -> dict[str, Any]:
        """The corridor's outline back in WGS84, for maps."""
        ring = np.asarray(self.corridor.exterior.coords)
        lons = ring[:, 0] / _M_PER_DEG_LON + LON0
        lats = ring[:, 1] / _M_PER_DEG_LAT + LAT0
        return {"type": "Polygon", "coordinates": [[[round(float(x), 6), round(float(y), 6)]
                                                    for x, y in zip(lons, lats)]]}


@dataclass(frozen=True)
class Network:
    points: dict[str, ClearancePoint]
    routes: dict[str, Route]
    silence: timedelta
    stop_radius_m: float
    suppliers: tuple[str, ...]
    _xy: np.ndarray = field(repr=False, compare=False)
    _radii: np.ndarray = field(repr=False, compare=False)
    _codes: tuple[str, ...] = field(repr=False, compare=False)

    @cached_property
    def partner_points(self) -> frozenset[str]:
        return frozenset(code for code, point in self.points.items() if point.side == "partner")

    def route_between(self, origin: str | None, control_point: str | None, destination: str | None) -> Route | None:
        """The approved route for a declaration's points; without a control point, the only
        route between origin and destination (None when there are several)."""
        found = [r for r in self.routes.values() if r.origin == origin and r.destination == destination
                 and (control_point is None or r.control_point == control_point)]
        return found[0] if len(found) == 1 else None

    @cached_property
    def _limits(self) -> dict[str, Limits]:
        return {route.code: Limits(
            origin=route.origin, destination=route.destination, partner_points=self.partner_points,
            max_journey=route.max_journey, max_stop=route.max_stop, silence=self.silence,
            stop_radius_m=self.stop_radius_m) for route in self.routes.values()}

    def limits(self, route: Route) -> Limits:
        return self._limits[route.code]

    def points_at(self, xs: np.ndarray, ys: np.ndarray) -> list[str | None]:
        """The clearance point each projected position lies in (the nearest, if areas overlap)."""
        if len(xs) == 0:
            return []
        dx = xs[:, None] - self._xy[None, :, 0]
        dy = ys[:, None] - self._xy[None, :, 1]
        distance = np.hypot(dx, dy)
        nearest = distance.argmin(axis=1)
        inside = distance[np.arange(len(xs)), nearest] <= self._radii[nearest]
        return [self._codes[i] if ok else None for i, ok in zip(nearest.tolist(), inside.tolist())]


def _line_of(text: str, key: str, value: str) -> int:
    pattern = re.compile(r'^\s*%s\s*=\s*["\']%s["\']' % (re.escape(key), re.escape(value)))
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return 1


def _header_line(text: str, header: str, index: int) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip() == header]
    return lines[index] if index < len(lines) else 1


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    if not path.is_file():
        raise RulesDataError(path, 0, "file missing")
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise RulesDataError(path, int(match.group(1)) if match else 1, f"not valid TOML: {exc}") from None


def _number(raw: dict[str, Any], key: str, low: float, high: float) -> float:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number")
    if not low <= value <= high:
        raise ValueError(f"{key} {value} is outside {low}..{high}")
    return float(value)


def _keys(raw: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    missing = sorted(allowed - set(raw))
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(unknown)}")
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")


def _point(raw: Any) -> ClearancePoint:
    if not isinstance(raw, dict):
        raise ValueError("[[point]] must be a table")
    _keys(raw, _POINT_KEYS)
    code = raw["code"]
    if not isinstance(code, str) or not POINT_CODE.fullmatch(code):
        raise ValueError(f"code {code!r} is not a UN/LOCODE-style point code (e.g. HKLMC)")
    if not isinstance(raw["name"], str) or not raw["name"].strip():
        raise ValueError("name must be a non-empty string")
    if raw["kind"] not in POINT_KINDS:
        raise ValueError(f"kind {raw['kind']!r} is not one of {', '.join(sorted(POINT_KINDS))}")
    if raw["side"] not in SIDES:
        raise ValueError(f"side {raw['side']!r} is not one of hk, partner")
    return ClearancePoint(code, raw["name"], raw["kind"], raw["side"], _number(raw, "longitude", -180, 180),
                          _number(raw, "latitude", -90, 90), _number(raw, "radius_metres", 10, 10_000))


def _route(raw: Any, points: dict[str, ClearancePoint]) -> Route:
    if not isinstance(raw, dict):
        raise ValueError("[[route]] must be a table")
    _keys(raw, _ROUTE_KEYS)
    code = raw["code"]
    if not isinstance(code, str) or not ROUTE_CODE.fullmatch(code):
        raise ValueError(f"code {code!r} must be 3-30 of A-Z, 0-9 and -")
    for key in ("origin", "control_point", "destination"):
        if raw[key] not in points:
            raise ValueError(f"{key} {raw[key]!r} is not a clearance point in points.toml")
    if raw["origin"] == raw["destination"]:
        raise ValueError("origin and destination are the same point")
    if points[raw["control_point"]].kind != "land_control_point":
        raise ValueError(f"control_point {raw['control_point']} is not a land control point")
    path = raw["path"]
    if (not isinstance(path, list) or len(path) < 2
            or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(c, (int, float))
                                                                   and not isinstance(c, bool) for c in p)
                       for p in path)):
        raise ValueError("path must be a list of at least 2 [longitude, latitude] pairs")
    for longitude, latitude in path:
        if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
            raise ValueError(f"path point [{longitude}, {latitude}] is not a WGS84 longitude, latitude")
    buffer_m = _number(raw, "buffer_metres", 50, 5_000)
    max_journey = _number(raw, "max_journey_minutes", 10, 7 * 24 * 60)
    max_stop = _number(raw, "max_stop_minutes", 1, 24 * 60)
    xs, ys = project(np.array([p[0] for p in path], dtype=float), np.array([p[1] for p in path], dtype=float))
    line = LineString(np.column_stack([xs, ys]))
    for key in ("origin", "control_point", "destination"):
        point = points[raw[key]]
        px, py = project(point.longitude, point.latitude)
        if line.distance(Point(px, py)) > point.radius_m + buffer_m:
            raise ValueError(f"path does not pass {key} {point.code} (more than radius + buffer away)")
    corridor = line.buffer(buffer_m)
    shapely.prepare(corridor)
    return Route(code, raw["origin"], raw["control_point"], raw["destination"], buffer_m,
                 timedelta(minutes=max_journey), timedelta(minutes=max_stop),
                 tuple((float(a), float(b)) for a, b in path), corridor)


def load_network(directory: Path) -> Network:
    """``points.toml`` and ``routes.toml`` from ``directory`` (``rules/transit``)."""
    points_path, routes_path = directory / "points.toml", directory / "routes.toml"
    text, data = _read(points_path)
    unknown = sorted(set(data) - {"point"})
    if unknown:
        raise RulesDataError(points_path, 1, f"unknown tables: {', '.join(unknown)}")
    points: dict[str, ClearancePoint] = {}
    for index, raw in enumerate(data.get("point", [])):
        code = raw.get("code") if isinstance(raw, dict) else None
        line = _line_of(text, "code", code) if isinstance(code, str) else _header_line(text, "[[point]]", index)
        try:
            point = _point(raw)
        except ValueError as exc:
            raise RulesDataError(points_path, line, f"point {code or index + 1}: {exc}") from None
        if point.code in points:
            raise RulesDataError(points_path, line, f"point {point.code} is defined twice")
        points[point.code] = point
    if not points:
        raise RulesDataError(points_path, 1, "no [[point]] defined")

    text, data = _read(routes_path)
    unknown = sorted(set(data) - {"route", "monitoring"})
    if unknown:
        raise RulesDataError(routes_path, 1, f"unknown tables: {', '.join(unknown)}")
    monitoring = data.get("monitoring")
    line = _header_line(text, "[monitoring]", 0)
    try:
        if not isinstance(monitoring, dict):
            raise ValueError("a [monitoring] table is required")
        _keys(monitoring, _MONITORING_KEYS)
        silence = _number(monitoring, "silence_minutes", 1, 24 * 60)
        stop_radius = _number(monitoring, "stop_radius_metres", 10, 2_000)
        suppliers = monitoring["accredited_suppliers"]
        if not isinstance(suppliers, list) or not suppliers or not all(isinstance(s, str) and s.strip()
                                                                       for s in suppliers):
            raise ValueError("accredited_suppliers must be a non-empty list of names")
    except ValueError as exc:
        raise RulesDataError(routes_path, line, f"monitoring: {exc}") from None
    routes: dict[str, Route] = {}
    for index, raw in enumerate(data.get("route", [])):
        code = raw.get("code") if isinstance(raw, dict) else None
        line = _line_of(text, "code", code) if isinstance(code, str) else _header_line(text, "[[route]]", index)
        try:
            route = _route(raw, points)
        except ValueError as exc:
            raise RulesDataError(routes_path, line, f"route {code or index + 1}: {exc}") from None
        if route.code in routes:
            raise RulesDataError(routes_path, line, f"route {route.code} is defined twice")
        clash = next((r for r in routes.values() if (r.origin, r.control_point, r.destination)
                      == (route.origin, route.control_point, route.destination)), None)
        if clash is not None:
            raise RulesDataError(routes_path, line, f"route {route.code} joins the same points as {clash.code}")
        routes[route.code] = route
    ordered = sorted(points.values(), key=lambda p: p.code)
    xs, ys = project(np.array([p.longitude for p in ordered]), np.array([p.latitude for p in ordered]))
    return Network(points, routes, timedelta(minutes=silence), stop_radius, tuple(suppliers),
                   np.column_stack([xs, ys]), np.array([p.radius_m for p in ordered]),
                   tuple(p.code for p in ordered))


_cache: dict[Path, Network] = {}
_lock = threading.Lock()


def network_for(rules_dir: Path) -> Network:
    """The network under ``rules_dir/transit``, loaded once per process (a restart applies a change)."""
    directory = (rules_dir / "transit").resolve()
    with _lock:
        network = _cache.get(directory)
        if network is None:
            network = _cache[directory] = load_network(directory)
        return network


_configured: list[Path] = []


def configure(rules_dir: Path) -> Network:
    """Make ``rules_dir``'s network the process's (start-up loads and checks it once)."""
    network = network_for(rules_dir)
    _configured[:] = [rules_dir]
    return network


def current_network() -> Network:
    """The network of the rules folder configured at start-up (``CSW_RULES_DIR`` otherwise)."""
    if _configured:
        return network_for(_configured[0])
    return network_for(Settings.from_env().rules_dir)
