"""The scheduled retrain/promote job (wired into ``app.jobs.JOBS`` as ``risk-retrain``)."""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from app.config import Settings
from app.risk.factors import FactorConfig
from app.risk.importer import ColumnMapping, mapping_path, read_records
from app.risk.scoring import model_directory
from app.risk.training import retrain_and_promote


def risk_retrain(session: Session, today: date) -> dict[str, object]:
    """Retrain on the history file (``CSW_RISK_HISTORY_CSV``, optional) plus officers' inspection
    outcomes, and promote only a candidate at least as good as the model in force."""
    settings = Settings.from_env()
    history = []
    currency, value_per_hkd = "HKD", 1.0
    history_csv = os.environ.get("CSW_RISK_HISTORY_CSV")
    if history_csv:
        mapping = ColumnMapping.load(mapping_path(settings.rules_dir,
                                                  os.environ.get("CSW_RISK_HISTORY_MAPPING", "customs-declarations")))
        history = list(read_records(Path(history_csv), mapping))
        currency = mapping.currency
        if currency != "HKD":
            value_per_hkd = FactorConfig.load(settings.rules_dir / "risk").value_per_hkd
    report = retrain_and_promote(
        session, history=history, current_dir=model_directory(settings.rules_dir, settings.instance_dir),
        models_dir=settings.instance_dir / "risk" / "models", instance_dir=settings.instance_dir,
        actor="job:risk-retrain", now=datetime.now(timezone.utc), value_per_hkd=value_per_hkd, currency=currency)
    return {**report, "day": today.isoformat()}
