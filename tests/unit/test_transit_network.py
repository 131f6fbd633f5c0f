"""The route network in rules/transit: loaded strictly (file:line errors), geometry in metres."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from app.config import PROJECT_ROOT
from app.domain.problems import RulesDataError
from app.transit.network import load_network, project
from app.transit.replay import along, offset
from app.transit.telemetry import read_json

SOURCE = PROJECT_ROOT / "rules" / "transit"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "transit"
    shutil.copytree(SOURCE, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_the_shipped_network_loads_with_its_points_and_routes() -> None:
    network = load_network(SOURCE)
    assert {"HKHKG", "HKKCG", "HKLMC", "HKSZB", "HKHYW", "HKMKT", "HKHZM", "CNDGG"} <= set(network.points)
    assert network.route_between("HKHKG", "HKLMC", "CNSZX").code == "HKG-LMC-SZX"  # type: ignore[union-attr]
    assert network.route_between("HKHKG", None, "CNSZX") is not None  # only one route joins them
    assert network.route_between("HKHKG", "HKSZB", "CNSZX") is None
    assert "CNDGG" in network.partner_points and "HKLMC" not in network.partner_points


def test_corridor_and_clearance_points_in_metres() -> None:
    network = load_network(SOURCE)
    route = network.routes["HKG-LMC-SZX"]
    middle = along(route, 0.5)
    near, far = offset(middle, 500, 0), offset(middle, 2000, 0)  # buffer is 800 m
    lons = np.array([middle[0], near[0], far[0]])
    lats = np.array([middle[1], near[1], far[1]])
    assert route.contains(*project(lons, lats)).tolist() == [True, True, False]
    lmc = network.points["HKLMC"]
    xs, ys = project(np.array([lmc.longitude, lmc.longitude]), np.array([lmc.latitude, lmc.latitude + 0.02]))
    assert network.points_at(xs, ys) == ["HKLMC", None]


@pytest.mark.parametrize(("file", "old", "new", "needle", "reason"), [
    ("routes.toml", 'control_point = "HKLMC"', 'control_point = "HKXXX"', 'code = "HKG-LMC-SZX"',
     "control_point 'HKXXX' is not a clearance point"),
    ("routes.toml", "buffer_metres = 800", "buffer_metres = 0", 'code = "HKG-LMC-SZX"', "buffer_metres 0 is outside"),
    ("routes.toml", "[113.9320, 22.2990], [113.9550", "[113.9550", 'code = "HKG-LMC-SZX"',
     "path does not pass origin HKHKG"),
    ("points.toml", 'side = "partner"', 'side = "mainland"', 'code = "CNSZX"', "side 'mainland'"),
    ("points.toml", "latitude = 22.5140", "latitude = 122.5140", 'code = "HKLMC"', "latitude 122.514 is outside"),
    ("routes.toml", "max_stop_minutes = 30", "max_stop_minutes = 30\nspeed = 80", 'code = "HKG-LMC-SZX"',
     "unknown keys: speed"),
])
def test_a_wrong_file_is_refused_naming_file_line_and_reason(folder: Path, file: str, old: str, new: str,
                                                             needle: str, reason: str) -> None:
    _edit(folder / file, old, new)
    with pytest.raises(RulesDataError) as caught:
        load_network(folder)
    assert caught.value.path == folder / file
    assert caught.value.line == _line(folder / file, needle)
    assert reason in caught.value.reason


def test_broken_toml_names_its_line(folder: Path) -> None:
    _edit(folder / "points.toml", 'kind = "airport"', 'kind = "airport')
    with pytest.raises(RulesDataError) as caught:
        load_network(folder)
    assert caught.value.line == _line(folder / "points.toml", 'kind = "airport')


def test_json_batches_are_checked_field_by_field() -> None:
    events = read_json(b'{"events": [{"event_id": "G-1", "elock_id": "EL-000123", "type": "seal", '
                       b'"occurred_at": "2026-11-12T09:00:00+08:00", "latitude": 22.3, "longitude": 113.93}]}')
    assert events[0].at.isoformat() == "2026-11-12T01:00:00+00:00"
    from app.domain.problems import Rejection

    with pytest.raises(Rejection) as caught:
        read_json(b'{"events": [{"event_id": "", "elock_id": "el-1", "type": "jump", "occurred_at": 5, '
                  b'"latitude": true, "longitude": 200, "speed": 3}, {"event_id": "G-2"}]}')
    assert sorted(p.path for p in caught.value.problems) == [
        "events[0].elock_id", "events[0].event_id", "events[0].latitude", "events[0].longitude",
        "events[0].occurred_at", "events[0].speed", "events[0].type",
        "events[1].elock_id", "events[1].latitude", "events[1].longitude", "events[1].occurred_at", "events[1].type"]
