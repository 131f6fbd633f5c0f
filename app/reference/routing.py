"""``rules/routing/``: the routes and the manifest policy, read and checked at start-up."""
from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import PROJECT_ROOT
from app.domain.routing import MessageType, RecipientRole, Route
from app.domain.trips import SelectionPolicy
from app.reference.codelists import ControlPoint, load_code_lists
from app.domain.problems import RulesDataError

DEFAULT_DIRECTORY = PROJECT_ROOT / "rules"
_CONDITIONS = ("control_points", "transport_modes", "declaration_types", "decisions")


@dataclass(frozen=True)
class ManifestPolicy:
    link_cutoff_minutes: int
    open_ahead_days: int
    vehicle_mark_pattern: re.Pattern[str]
    cross_boundaries: frozenset[str]
    selection: SelectionPolicy


@dataclass(frozen=True)
class RoutingRules:
    routes: tuple[Route, ...]
    manifest: ManifestPolicy
    control_points: dict[str, ControlPoint]

    @classmethod
    def load(cls, rules_dir: Path = DEFAULT_DIRECTORY,
             control_points: Mapping[str, ControlPoint] | None = None) -> RoutingRules:
        """``control_points``: the code list already loaded with the rule set (read from
        ``rules/codelists`` when not given)."""
        if control_points is None:
            control_points = load_code_lists(rules_dir / "codelists").control_points
        return cls(routes=load_routes(rules_dir / "routing" / "routes.toml"),
                   manifest=load_manifest_policy(rules_dir / "routing" / "manifest.toml"),
                   control_points=dict(control_points))

    def crosses_boundary(self, control_point: str | None) -> bool:
        point = self.control_points.get(control_point or "")
        return point is not None and point.boundary in self.manifest.cross_boundaries


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesDataError(path, 0, "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesDataError(path, None, f"not valid TOML: {exc}") from None


def _strings(path: Path, where: str, value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RulesDataError(path, None, f"{where} must be a list of strings")
    return frozenset(value)


def load_routes(path: Path) -> tuple[Route, ...]:
    data = _toml(path)
    routes = []
    known_types = {t.value for t in MessageType}
    known_roles = {r.value for r in RecipientRole}
    for number, row in enumerate(data.get("route", []), start=1):
        where = f"[[route]] #{number}"
        unknown = set(row) - {"name", "message_types", "recipients", "cross_boundary", *_CONDITIONS}
        if unknown:
            raise RulesDataError(path, None, f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        types = _strings(path, f"{where} message_types", row.get("message_types"))
        if not types or not types <= known_types:
            raise RulesDataError(path, None, f"{where}: message_types must be among {', '.join(sorted(known_types))}")
        recipients = row.get("recipients")
        if not isinstance(recipients, list) or not recipients or not set(recipients) <= known_roles:
            raise RulesDataError(path, None, f"{where}: recipients must be among {', '.join(sorted(known_roles))}")
        cross_boundary = row.get("cross_boundary")
        if cross_boundary is not None and not isinstance(cross_boundary, bool):
            raise RulesDataError(path, None, f"{where}: cross_boundary must be true or false")
        conditions = {key: _strings(path, f"{where} {key}", row[key]) for key in _CONDITIONS if key in row}
        routes.append(Route(
            name=str(row.get("name") or where), message_types=frozenset(MessageType(t) for t in types),
            recipients=tuple(RecipientRole(r) for r in recipients), cross_boundary=cross_boundary, **conditions))
    if not routes:
        raise RulesDataError(path, 0, "no [[route]] defined")
    return tuple(routes)


def load_manifest_policy(path: Path) -> ManifestPolicy:
    data = _toml(path)
    try:
        cutoff = int(data["link_cutoff_minutes"])
        ahead = int(data["open_ahead_days"])
        pattern = re.compile(str(data["vehicle_mark_pattern"]))
    except KeyError as exc:
        raise RulesDataError(path, 0, f"missing {exc.args[0]}") from None
    except (TypeError, ValueError, re.error) as exc:
        raise RulesDataError(path, None, f"invalid value: {exc}") from None
    if cutoff < 0 or ahead < 1:
        raise RulesDataError(path, None, "link_cutoff_minutes must be >= 0 and open_ahead_days >= 1")
    return ManifestPolicy(
        link_cutoff_minutes=cutoff, open_ahead_days=ahead, vehicle_mark_pattern=pattern,
        cross_boundaries=_strings(path, "cross_boundaries", data.get("cross_boundaries", [])),
        selection=SelectionPolicy(
            selected_lanes=_strings(path, "selected_lanes", data.get("selected_lanes", [])),
            selected_statuses=_strings(path, "selected_statuses", data.get("selected_statuses", []))),
    )


_loaded: dict[Path, RoutingRules] = {}
_lock = threading.Lock()


def routing_rules(rules_dir: Path = DEFAULT_DIRECTORY) -> RoutingRules:
    """The rules of ``rules_dir``, read once per process (the declaration service calls this
    inside a transaction, where re-reading files would cost every status change)."""
    rules_dir = Path(rules_dir)
    with _lock:
        if rules_dir not in _loaded:
            _loaded[rules_dir] = RoutingRules.load(rules_dir)
        return _loaded[rules_dir]


def configure(rules_dir: Path) -> RoutingRules:
    """The routing rules of ``rules_dir``, loaded and checked now (start-up: a wrong file stops
    the service before it answers)."""
    return routing_rules(rules_dir)
