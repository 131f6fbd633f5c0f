"""Declarations per second through the business-rule engine (and charges) alone.

Why: rules run on every declaration in the request path, so they must cost well under a
millisecond for a 5-item declaration. This times ``assess`` (all rules in force + the
charges) on the already-mapped benchmark document, in one process, after a warm-up.

    .venv/bin/python -m bench.rules [--seconds 5] [--sample samples/valid/import-5-items.xml]
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from app.config import PROJECT_ROOT
from app.intake.service import Intake
from app.rules.assessment import RuleSet, assess
from bench.results import stamp, write_section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sample", type=Path, default=PROJECT_ROOT / "samples/valid/import-5-items.xml")
    parser.add_argument("--write-results", action="store_true", help="write the rules section of RESULTS.md")
    args = parser.parse_args()

    rule_set = RuleSet.load(PROJECT_ROOT / "rules")
    declaration = Intake(PROJECT_ROOT / "schemas").receive_declaration(args.sample.read_bytes()).declaration
    now = datetime.now(timezone.utc)
    for _ in range(500):
        assess(rule_set, declaration, now)

    timings: list[float] = []
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        for _ in range(100):
            assess(rule_set, declaration, now)
        timings.append((time.perf_counter() - started) / 100)
    per_call = statistics.median(timings)
    p95 = sorted(timings)[int(len(timings) * 0.95)]
    lines = [
        f"- {len(rule_set.rules)} rules, sample {args.sample.name} ({len(declaration.goods_items)} goods items), "
        f"rules version {rule_set.version[:12]}",
        f"- rules + charges: **{1 / per_call:,.0f} declarations/s**, median {per_call * 1e6:.1f} µs per "
        f"declaration (p95 of 100-call batches {p95 * 1e6:.1f} µs); target: well under 1 ms",
    ]
    print("\n".join(lines))
    if args.write_results:
        write_section("rules", "## Rule engine alone (`bench/rules.py`)\n\n"
                      f"- {stamp()}, one process, {args.seconds:g} s\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
