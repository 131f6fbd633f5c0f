"""Risk scoring speed and the learned model's validation figures.

Why: every declaration is scored in the request path (target: well under 2 ms) and the
retrain job and analysts score history in batches (target: >= 20,000 rows/s). The model's
worth is judged on the latest months of the training file (time split), against two simple
baselines, and also on the held-out rows whose (HS6, net mass) pair never occurs in training
(the synthetic data set repeats such pairs with the same label; see its README).

    .venv/bin/python -m bench.risk [--csv ../shared/data/customs-declarations/train.csv] [--write-results]
"""
from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from app.config import PROJECT_ROOT
from app.intake.service import Intake
from app.risk.baselines import hs6_rate_baseline, logistic_baseline
from app.risk.factors import TraderHistory
from app.risk.importer import ColumnMapping, mapping_path, read_records
from app.risk.model import evaluate, time_split
from app.risk.scoring import RiskEngine
from app.rules.assessment import RuleSet, assess
from bench.results import stamp, write_section

DATA = PROJECT_ROOT.parent / "shared" / "data" / "customs-declarations" / "train.csv"


def _row(name: str, report: dict) -> str:
    f, r = report["fraud"], report["revenue"]
    return (f"| {name} | {f['precision@1']:.3f} | {f['precision@5']:.3f} | {f['recall@5']:.3f} | "
            f"{f['precision@10']:.3f} | {r['revenue@1']:.3f} | {r['revenue@5']:.3f} | {r['revenue@10']:.3f} | "
            f"{report['auc']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DATA)
    parser.add_argument("--sample", type=Path, default=PROJECT_ROOT / "samples/valid/import-5-items.xml")
    parser.add_argument("--calls", type=int, default=3000, help="in-request scorings timed")
    parser.add_argument("--write-results", action="store_true", help="write the risk section of RESULTS.md")
    args = parser.parse_args()

    engine = RiskEngine.load(PROJECT_ROOT / "rules", PROJECT_ROOT / "instance")
    assert engine.model is not None, "no model: run csw risk train first"
    model = engine.model
    manifest = model.manifest
    mapping = ColumnMapping.load(mapping_path(PROJECT_ROOT / "rules", manifest["training_data"]["mapping"]))
    records = list(read_records(args.csv, mapping))

    model.probabilities(records[:1000])
    started = time.perf_counter()
    model.probabilities(records)
    batch_rate = len(records) / (time.perf_counter() - started)

    rule_set = RuleSet.load(PROJECT_ROOT / "rules")
    received = Intake(PROJECT_ROOT / "schemas").receive_declaration(args.sample.read_bytes())
    assessed = assess(rule_set, received.declaration, datetime.now(timezone.utc))
    history = TraderHistory(12)
    for _ in range(200):
        engine.assess("bench/LRN", received.sha256, received.declaration, assessed, history=history)
    timings, cpu_timings = [], []
    for n in range(args.calls):
        began, began_cpu = time.perf_counter(), time.thread_time()
        engine.assess(f"bench/LRN-{n}", received.sha256, received.declaration, assessed, history=history)
        cpu_timings.append(time.thread_time() - began_cpu)
        timings.append(time.perf_counter() - began)
    timings.sort()
    cpu_timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    cpu_p99 = cpu_timings[int(len(cpu_timings) * 0.99)]
    load = os.getloadavg()[0]

    holdout_days = 90
    train, held, cut = time_split(records, holdout_days)
    seen = {(r.hs6, r.net_mass) for r in train}
    unseen = [r for r in held if (r.hs6, r.net_mass) not in seen]
    rng = random.Random(15)
    jittered = [replace(r, net_mass=r.net_mass * f, value=r.value * f)
                for r in held for f in [rng.uniform(0.85, 1.15)]]
    extras = list(mapping.extras)
    data = manifest["training_data"]
    lines = [
        f"- model {model.version} ({manifest['algorithm']}, {len(manifest['features'])} features), trained on "
        f"{data['train_rows']} rows of {data['source']} up to {data['train_until']} "
        f"(sha256 {data['sha256'][:12]}); artefact in rules/risk/models/{model.version}/",
        f"- validation: {manifest['validation']}: {data['held_out_rows']} rows "
        f"{data['held_out_from']} .. {data['held_out_until']}",
        f"- batch scoring: **{batch_rate:,.0f} rows/s** ({len(records):,} rows, one process; target >= 20,000)",
        f"- in-request scoring of {args.sample.name} ({len(received.declaration.goods_items)} goods items: model + "
        f"indicators + lane): p50 {p50 * 1e3:.3f} ms, **p99 {p99 * 1e3:.3f} ms** over {args.calls} calls "
        f"(target well under 2 ms); p99 of this thread's CPU time {cpu_p99 * 1e3:.3f} ms; "
        f"machine load average {load:.1f} on {os.cpu_count()} cores (wall-clock p99 on a busy machine "
        f"includes waiting for a core)",
        "",
        "Held-out period (latest 90 days), fraud ranking precision/recall and revenue ranking revenue share:",
        "",
        "| ranking source | P@1% | P@5% | R@5% | P@10% | Rev@1% | Rev@5% | Rev@10% | AUC |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row("learned model", evaluate(model, held)),
        _row("learned model, held-out net mass and value jittered ±15%", evaluate(model, jittered)),
        _row("baseline: HS6 historical rate", hs6_rate_baseline(train, held)),
        _row("baseline: logistic regression", logistic_baseline(train, held, extras)),
        "",
        f"Held-out rows whose (HS6, net mass) pair never occurs in training ({len(unseen)} of {len(held)}):",
        "",
        "| ranking source | P@1% | P@5% | R@5% | P@10% | Rev@1% | Rev@5% | Rev@10% | AUC |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _row("learned model", evaluate(model, unseen)),
        _row("baseline: HS6 historical rate", hs6_rate_baseline(train, unseen)),
        _row("baseline: logistic regression", logistic_baseline(train, unseen, extras)),
        "",
        "How this was validated: `csw risk train` splits train.csv by date, never at random: it fits the "
        "encodings (category codes, smoothed fraud rates by HS6/HS4/origin/route/party, counts, HS6 median unit "
        "values) and the trees on the declarations up to the cut, and scores only the following 90 days. The "
        "baselines are fitted on the same training rows. Revenue ranking = fraud probability x item price "
        "(the README's revenue at stake); revenue@k = share of all fraud item price in the top k%. Caveat: "
        f"{1 - len(unseen) / max(len(held), 1):.0%} of held-out rows repeat an (HS6, net mass) pair seen in "
        "training, which this synthetic data set labels alike. Two checks that the model does not merely look such "
        "pairs up: with every held-out net mass (and value) moved by a random ±15%, which breaks the exact pairs, "
        "it keeps its lead over both baselines (jittered row above); the second table shows the rows whose pair "
        "never occurs in training (rarer goods, harder for every ranking), where no ranking is clearly better "
        "than another at this sample size, so real inspection outcomes must confirm the edge (the retrain job "
        "does that).",
    ]
    print("\n".join(lines))
    if args.write_results:
        write_section("risk", "## Risk scoring (`bench/risk.py`)\n\n"
                      f"- {stamp()}, one process\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
