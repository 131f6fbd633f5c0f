"""``csw risk``: train a model from CSV, evaluate it, score a file, derive lane thresholds."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from app.config import Settings
from app.db.risk_models import RiskAssessment
from app.platform.commands import reading as command_reading
from app.domain.risk import thresholds_for_rates
from app.risk.evaluation import format_table
from app.risk.importer import MappingError
from app.risk.policy import load_policy
from app.risk.training import evaluate_csv, score_csv, train_from_csv

JSON_KEYS = ("fraud", "revenue", "auc", "rows", "frauds", "unseen_profiles", "baselines")


@click.group()
def risk() -> None:
    """Risk scoring: learned model, evaluation, lane thresholds."""


@risk.command("train")
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", default="customs-declarations", show_default=True,
              help="column mapping: a name in rules/risk/mappings/ or a .toml file")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--holdout-days", default=90, show_default=True, type=click.IntRange(1, 3650),
              help="the latest days of the file held out for validation (time split)")
@click.option("--limit", default=None, type=click.IntRange(1), help="read only the first N rows (quick runs)")
@click.option("--no-baselines", is_flag=True, help="skip the HS6-rate and logistic-regression baselines")
def train_command(csv_path: Path, mapping: str, out: Path, holdout_days: int, limit: int | None,
                  no_baselines: bool) -> None:
    """Train on the file's earlier declarations, validate on its latest months, save to OUT."""
    settings = Settings.from_env()
    try:
        model = train_from_csv(csv_path, mapping, settings.rules_dir, out, holdout_days, limit, not no_baselines)
    except (MappingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    data = model.manifest["training_data"]
    click.echo(f"model {model.version} saved to {out}")
    click.echo(f"trained on {data['train_rows']} rows up to {data['train_until']}; validated on "
               f"{data['held_out_rows']} rows {data['held_out_from']} .. {data['held_out_until']}")
    click.echo(format_table(model.manifest["metrics"]))
    for name, report in model.manifest.get("baselines", {}).items():
        click.echo(f"\nbaseline {name}:\n{format_table(report)}")


@risk.command("evaluate")
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", default=None, help="column mapping (default: the one the model was trained with)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.option("--held-out", "held_out", is_flag=True,
              help="score only the rows dated after the model's training period (its validation on the training file)")
def evaluate_command(model_dir: Path, csv_path: Path, mapping: str | None, as_json: bool, held_out: bool) -> None:
    """precision@k, recall@k and revenue@k at 1, 2, 5 and 10% for both rankings, and the AUC: on
    all rows and on rows whose goods profile is unseen in training, with the baselines beside."""
    settings = Settings.from_env()
    try:
        report = evaluate_csv(model_dir, csv_path, mapping, settings.rules_dir, held_out)
    except (MappingError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    overlap = report.get("rows_in_training_period", 0)
    if overlap:
        click.echo(f"warning: {overlap} rows fall in the model's training period and flatter its figures; "
                   "--held-out scores only the later rows", err=True)
    if as_json:
        click.echo(json.dumps({key: report[key] for key in JSON_KEYS}))
    else:
        click.echo(format_table(report))
        baselines = report["baselines"]
        assert isinstance(baselines, dict)
        for name, baseline in baselines.items():
            click.echo(f"\nbaseline {name}:\n{format_table(baseline)}")


@risk.command("score")
@click.option("--model", "model_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--csv", "csv_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--mapping", default=None, help="column mapping (default: the one the model was trained with)")
def score_command(model_dir: Path, csv_path: Path, out: Path, mapping: str | None) -> None:
    """Write one CSV line per input row: its id, the fraud probability and the revenue-ranking score."""
    settings = Settings.from_env()
    try:
        rows = score_csv(model_dir, csv_path, mapping, settings.rules_dir, out)
    except (MappingError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"scored {rows} rows into {out}")


@risk.command("thresholds")
@click.option("--last", default=10_000, show_default=True, type=click.IntRange(1),
              help="how many of the most recent assessments to use")
def thresholds_command(last: int) -> None:
    """Lane thresholds that meet the policy's target red/yellow rates over recent declarations."""
    settings = Settings.from_env()
    policy = load_policy(settings.rules_dir / "risk" / "lanes.toml")
    with command_reading(settings) as session:
        scores = list(session.scalars(select(RiskAssessment.score).order_by(RiskAssessment.id.desc()).limit(last)))
    if not scores:
        raise click.ClickException("no risk assessments stored yet")
    red_rate = policy.target_red_rate or 0.05
    yellow_rate = policy.target_yellow_rate or 0.10
    found = thresholds_for_rates(scores, red_rate, yellow_rate)
    click.echo(f"over the last {len(scores)} assessments, for {red_rate:.0%} red and {yellow_rate:.0%} yellow:")
    click.echo(f"[thresholds]\nyellow = {found.yellow}\nred = {found.red}")
