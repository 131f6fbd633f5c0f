"""Risk scoring speed and the learned model's validation figures.

Why: every declaration is scored in the request path (target: p99 < 2 ms for five goods items)
and the retrain job and analysts score history in batches (target: >= 20,000 rows/s). The
model's worth is judged on the latest months of the training file (time split, never random),
against three baselines fitted on the same rows, on all rows and separately on the rows whose
(HS6, net mass) pair never occurs in training (the data set repeats such pairs with the same
label; its README asks for both). ``--windows`` repeats the validation on two earlier 90-day
windows (rolling origin), the ones the new-profile model's settings were chosen on.

    .venv/bin/python -m bench.risk [--csv ../shared/data/customs-declarations/train.csv] [--windows] [--write-results]
"""
from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from app.config import PROJECT_ROOT
from app.domain.risk import RiskRecord
from app.intake.service import Intake
from app.risk.baselines import fit_baselines, load_baselines
from app.risk.factors import TraderHistory
from app.risk.importer import ColumnMapping, mapping_path, read_records
from app.risk.model import RiskModel, evaluate, time_split, train
from app.risk.scoring import RiskEngine, model_directory
from app.risk.training import baseline_reports
from app.rules.assessment import RuleSet, assess
from bench.results import stamp, write_section

DATA = PROJECT_ROOT.parent / "shared" / "data" / "customs-declarations" / "train.csv"
HEADER = ("| ranking source | P@1% | P@2% | P@5% | R@5% | P@10% | Rev@1% | Rev@2% | Rev@5% | Rev@10% | AUC |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
BASELINES = {"hs6_rate": "baseline: HS6 historical rate", "profile_history": "baseline: (HS6, net mass) history",
             "logistic_regression": "baseline: logistic regression"}


def _row(name: str, report: dict) -> str:
    f, r = report["fraud"], report["revenue"]
    auc = "n/a" if report["auc"] is None else f"{report['auc']:.3f}"
    return (f"| {name} | {f['precision@1']:.3f} | {f['precision@2']:.3f} | {f['precision@5']:.3f} | "
            f"{f['recall@5']:.3f} | {f['precision@10']:.3f} | {r['revenue@1']:.3f} | {r['revenue@2']:.3f} | "
            f"{r['revenue@5']:.3f} | {r['revenue@10']:.3f} | {auc} |")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _timed(call, count: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    wall, cpu = [], []
    for n in range(count):
        began, began_cpu = time.perf_counter(), time.thread_time()
        call(n)
        cpu.append(time.thread_time() - began_cpu)
        wall.append(time.perf_counter() - began)
    return wall, cpu


def _windows(records: list[RiskRecord], mapping: ColumnMapping) -> list[str]:
    """Train and judge at three cuts: the latest 90 days, and the two 90-day windows before."""
    last = max(r.declared_on for r in records if r.declared_on is not None)
    lines = ["| window (held out) | model P@5% | model Rev@5% | model P@10% unseen | best baseline P@10% unseen | "
             "(HS6, net mass) history P@5% / Rev@5% | logistic regression P@5% / Rev@5% | unseen rows |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for back in (180, 90, 0):
        end = last - timedelta(days=back)
        upto = [r for r in records if r.declared_on is not None and r.declared_on <= end]
        model, held = train(upto, data_sha256="windows", source="windows", mapping=mapping.name,
                            extras=list(mapping.extras), holdout_days=90, novelty_keys=mapping.new_profile_keys)
        train_rows, _held, _cut = time_split(upto, 90)
        reports = baseline_reports(model, fit_baselines(train_rows, list(mapping.extras)), held)
        metrics = model.manifest["metrics"]
        unseen = metrics["unseen_profiles"]
        best = max(report["unseen_profiles"]["fraud"]["precision@10"] for report in reports.values())
        history, logistic = reports["profile_history"], reports["logistic_regression"]
        lines.append(
            f"| {held[0].declared_on if held else ''} .. {end}"
            f" | {metrics['fraud']['precision@5']:.3f} | {metrics['revenue']['revenue@5']:.3f}"
            f" | **{unseen['fraud']['precision@10']:.3f}** | {best:.3f}"
            f" | {history['fraud']['precision@5']:.3f} / {history['revenue']['revenue@5']:.3f}"
            f" | {logistic['fraud']['precision@5']:.3f} / {logistic['revenue']['revenue@5']:.3f}"
            f" | {unseen['rows']} |")
    return lines


def _sections(model: RiskModel, held: Sequence[RiskRecord], baselines: dict) -> list[str]:
    rng = random.Random(15)
    jittered = [replace(r, net_mass=r.net_mass * f, value=r.value * f) for r in held for f in [rng.uniform(0.85, 1.15)]]
    report = evaluate(model, held)
    others = baseline_reports(model, baselines, list(held))
    unseen = report["unseen_profiles"]
    lines = ["Held-out period, all rows (fraud ranking: precision P and recall R; revenue ranking: share Rev of all "
             "fraud item price found):", "", HEADER, _row("**learned model**", report),
             _row("learned model, held-out net mass and value moved ±15% (no profile can match)",
                  evaluate(model, jittered))]
    lines += [_row(label, others[name]) for name, label in BASELINES.items() if name in others]
    lines += ["", f"Held-out rows whose (HS6, net mass) pair never occurs in training ({unseen['rows']} of "
              f"{report['rows']}, {unseen['frauds']} frauds):", "", HEADER,
              _row("**learned model**", unseen)]
    lines += [_row(label, others[name]["unseen_profiles"]) for name, label in BASELINES.items() if name in others]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DATA)
    parser.add_argument("--sample", type=Path, default=PROJECT_ROOT / "samples/valid/import-5-items.xml")
    parser.add_argument("--calls", type=int, default=3000, help="in-request scorings timed")
    parser.add_argument("--windows", action="store_true", help="also train and judge on two earlier windows")
    parser.add_argument("--write-results", action="store_true", help="write the risk section of RESULTS.md")
    args = parser.parse_args()

    instance = PROJECT_ROOT / "instance"
    engine = RiskEngine.load(PROJECT_ROOT / "rules", instance)
    assert engine.model is not None, "no model: run csw risk train first"
    model = engine.model
    directory = model_directory(PROJECT_ROOT / "rules", instance)
    assert directory is not None
    manifest = model.manifest
    mapping = ColumnMapping.load(mapping_path(PROJECT_ROOT / "rules", manifest["training_data"]["mapping"]))
    records = list(read_records(args.csv, mapping))

    model.probabilities(records[:1000])
    started, started_cpu = time.perf_counter(), time.process_time()
    model.probabilities(records)
    batch_rate = len(records) / (time.perf_counter() - started)
    batch_cpu_rate = len(records) / (time.process_time() - started_cpu)

    rule_set = RuleSet.load(PROJECT_ROOT / "rules")
    received = Intake(PROJECT_ROOT / "schemas").receive_declaration(args.sample.read_bytes())
    assessed = assess(rule_set, received.declaration, datetime.now(timezone.utc))
    history = TraderHistory(12)
    for _ in range(200):
        engine.assess("bench/LRN", received.sha256, received.declaration, assessed, history=history)
    wall, cpu = _timed(lambda n: engine.assess(f"bench/LRN-{n}", received.sha256, received.declaration, assessed,
                                               history=history), args.calls)
    holdout_days = 90
    train_rows, held, _cut = time_split(records, holdout_days)
    seen_five = [r for r, (n, _f) in zip(held, model.encoder.profile_history(held)) if n][:5]
    new_five = [r for r, (n, _f) in zip(held, model.encoder.profile_history(held)) if not n][:5]
    model_cpu = {}
    for name, five in (("profiles seen before", seen_five), ("new profiles", new_five)):
        for _ in range(200):
            model.probabilities(five)
        model_cpu[name] = _percentile(_timed(lambda _n, five=five: model.probabilities(five), args.calls)[1], 0.99)
    load = os.getloadavg()[0]

    data = manifest["training_data"]
    lines = [
        f"- model {model.version} ({manifest['algorithm']}; {len(manifest['features'])} + "
        f"{len(manifest['novelty_features'])} features), trained on {data['train_rows']} rows of {data['source']} "
        f"up to {data['train_until']} (sha256 {data['sha256'][:12]}); artefact in rules/risk/models/{model.version}/",
        f"- validation: {manifest['validation']}: {data['held_out_rows']} rows "
        f"{data['held_out_from']} .. {data['held_out_until']}",
        f"- batch scoring: **{batch_cpu_rate:,.0f} rows per CPU-second** on one thread, {batch_rate:,.0f} rows/s "
        f"of wall-clock time ({len(records):,} rows, one process; target >= 20,000)",
        f"- in-request scoring of {args.sample.name} ({len(received.declaration.goods_items)} goods items: model + "
        f"indicators + reasons + lane): p50 {_percentile(wall, 0.5) * 1e3:.3f} ms, **p99 "
        f"{_percentile(wall, 0.99) * 1e3:.3f} ms** over {args.calls} calls (target p99 < 2 ms); this thread's CPU "
        f"time p50 {_percentile(cpu, 0.5) * 1e3:.3f} ms, p99 {_percentile(cpu, 0.99) * 1e3:.3f} ms; "
        f"model alone on five held-out items, CPU p99: "
        + ", ".join(f"{name} {value * 1e3:.3f} ms" for name, value in model_cpu.items())
        + f"; machine load average {load:.1f} on {os.cpu_count()} cores (wall-clock on a busy machine includes "
        "waiting for a core)",
        "",
    ]
    lines += _sections(model, held, load_baselines(directory))
    if args.windows:
        lines += ["", "Rolling origin: the same training and judging at three cuts of train.csv (each window's "
                  "model and baselines trained only on the declarations before it). The new-profile model's keys "
                  "(`[model] new_profile_keys` in the mapping) were chosen on the first two windows:", ""]
        lines += _windows(records, mapping)
    lines += [
        "",
        "How this was validated: `csw risk train` splits train.csv by date, never at random, and fits everything "
        "on the declarations up to the cut: the lookup tables (goods-profile outcomes, smoothed fraud rates of HS "
        "codes, countries, route, parties, office and tariff, the same rates over first inspections, HS6 usual "
        "mass and unit value) and both tree models; each training row's history features come only from the days "
        "before it. It scores only the following 90 days. The baselines are fitted on the same training rows and "
        "saved beside the model, so `csw risk evaluate --json` scores them on any later file too. Revenue ranking "
        "= fraud probability x item price (the README's revenue at stake); revenue@k = share of all fraud item "
        "price in the top k%. Remembering goods profiles is what lifts the all-rows figures (the (HS6, net mass) "
        "history baseline alone is close); the jittered row shows the model without any profile match, and the "
        "unseen-pair table is where the model must stand on its own: there it leads every baseline at 10 %, "
        "but the signal is weak (AUC about 0.65) and the sample small (one row more or less at the top moves "
        "P@10% by about 0.008).",
    ]
    print("\n".join(lines))
    if args.write_results:
        write_section("risk", "## Risk scoring (`bench/risk.py`)\n\n"
                      f"- {stamp()}, one process\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
