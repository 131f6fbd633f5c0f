"""The scheduled retrain/promote job (wired into ``app.jobs.JOBS`` as ``risk-retrain``)."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy.orm import Session

from app.config import Settings
from app.platform.clock import utcnow
from app.risk.factors import FactorConfig
from app.risk.importer import ColumnMapping, mapping_path, read_records
from app.risk.model import MANIFEST
from app.risk.scoring import model_directory
from app.risk.training import retrain_and_promote


def risk_retrain(session: Session, today: date) -> dict[str, object]:
    """Retrain on the history file (``CSW_RISK_HISTORY_CSV``, optional) plus officers' inspection
    outcomes, and promote only a candidate at least as good as the model in force."""
    settings = Settings.from_env()
    history = []
    currency = "HKD"
    novelty_keys: tuple[str, ...] = ()
    foreign_per_hkd = FactorConfig.load(settings.rules_dir / "risk").value_per_hkd
    if settings.risk_history_csv is not None:
        mapping = ColumnMapping.load(mapping_path(settings.rules_dir, settings.risk_history_mapping))
        history = list(read_records(settings.risk_history_csv, mapping))
        currency = mapping.currency
        # the candidate learns no source-specific codes (inspection outcomes have none)
        novelty_keys = tuple(key for key in mapping.new_profile_keys if not key.startswith("extra:"))
    current_dir = model_directory(settings.rules_dir, settings.instance_dir, settings.risk_model_dir)
    current_currency = currency
    if current_dir is not None:
        manifest = json.loads((current_dir / MANIFEST).read_text(encoding="utf-8"))
        current_currency = str(manifest.get("currency", "HKD"))
    report = retrain_and_promote(
        session, history=history, current_dir=current_dir,
        models_dir=settings.instance_dir / "risk" / "models", instance_dir=settings.instance_dir,
        actor="job:risk-retrain", now=utcnow(),
        value_per_hkd=value_factor("HKD", currency, foreign_per_hkd), currency=currency,
        current_value_factor=value_factor(currency, current_currency, foreign_per_hkd), novelty_keys=novelty_keys)
    return {**report, "day": today.isoformat()}


def value_factor(source: str, target: str, foreign_per_hkd: float) -> float:
    """What to multiply amounts in ``source`` currency by to get ``target`` currency, when one of
    them is HKD and the other the foreign currency of ``[model] value_per_hkd``."""
    if source == target:
        return 1.0
    if source == "HKD":
        return foreign_per_hkd
    if target == "HKD":
        return 1.0 / foreign_per_hkd
    raise ValueError(f"no exchange factor from {source} to {target}")
