"""Settings from the environment (CSW_*), with safe defaults for the embedded mode."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: A new declaration's document longer than this is lodged on its own, not in a group commit.
LODGE_ALONE_ABOVE_BYTES = 64 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _positive_int(name: str, default: int) -> int:
    """A count that must be positive: anything else (empty, junk, 0) keeps the default."""
    raw = os.environ.get(name, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def _whole(name: str, default: int) -> int:
    """A count that may be 0 (a cache of 0 seconds caches nothing); junk keeps the default."""
    raw = os.environ.get(name, "")
    return int(raw) if raw.isdigit() else default


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, in one place."""

    database_url: str
    secret_key: str
    instance_dir: Path
    schema_dir: Path = PROJECT_ROOT / "schemas"
    rules_dir: Path = PROJECT_ROOT / "rules"
    max_body_bytes: int = 5 * 1024 * 1024
    max_batch_body_bytes: int = 16 * 1024 * 1024
    run_scheduler: bool = True
    audit_seal_seconds: int = 30
    elock_overdue_seconds: int = 60
    case_escalation_seconds: int = 300
    # the HTTP server (app/serving): a request head must arrive whole within header_timeout
    # seconds; a body may pause at most body_timeout seconds between pieces
    header_timeout_seconds: float = 10.0
    pin_workers: bool = True  # each gunicorn worker of ``csw serve`` on a core of its own (app.serving.cores)
    body_timeout_seconds: float = 10.0
    max_error_count: int = 25
    page_size: int = 50
    api_key_cache_seconds: int = 10
    aeo_cache_seconds: int = 10
    log_level: str = "INFO"
    api_rate_limit: str = "100 per second"
    login_rate_limit: str = "10 per minute"
    release_green: bool | None = None
    rate_limit_storage: str = "memory://"
    secure_cookies: bool = False
    trusted_proxies: int = 0
    # /metrics: None answers loopback addresses only; a token is required from everywhere
    metrics_token: str | None = None
    # officers' queue
    case_escalation_minutes: int = 30
    # routing: outbox retention and the dispatcher
    outbox_retention_days: int = 14
    dispatch_batch: int = 500
    dispatch_lease_seconds: float = 60.0
    dispatch_interval_seconds: float = 2.0
    dispatch_retry_base_seconds: float = 1.0
    dispatch_retry_cap_seconds: float = 300.0
    dispatch_max_attempts: int = 5
    dispatch_probe_base_seconds: float = 2.0
    dispatch_probe_cap_seconds: float = 300.0
    webhook_timeout_seconds: float = 10.0
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    amqp_exchange: str = "csw.routing"
    # risk
    risk_model_dir: Path | None = None
    risk_history_csv: Path | None = None
    risk_history_mapping: str = "customs-declarations"
    risk_history_cache_seconds: int = 300
    risk_threshold_cache_seconds: int = 600
    lodge_alone_above_bytes: int = LODGE_ALONE_ABOVE_BYTES

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        instance_dir = Path(os.environ.get("CSW_INSTANCE_DIR", PROJECT_ROOT / "instance"))
        values: dict[str, Any] = {
            "database_url": os.environ.get(
                "CSW_DATABASE_URL", f"sqlite:///{instance_dir / 'csw.db'}"
            ),
            "secret_key": os.environ.get("CSW_SECRET_KEY", "dev-only-change-me"),
            "instance_dir": instance_dir,
            "max_body_bytes": _int("CSW_MAX_BODY_BYTES", 5 * 1024 * 1024),
            "max_batch_body_bytes": _int("CSW_MAX_BATCH_BODY_BYTES", 16 * 1024 * 1024),
            "run_scheduler": os.environ.get("CSW_SCHEDULER", "1") != "0",
            "audit_seal_seconds": _positive_int("CSW_AUDIT_SEAL_SECONDS", 30),
            "elock_overdue_seconds": _positive_int("CSW_ELOCK_OVERDUE_SECONDS", 60),
            "case_escalation_seconds": _positive_int("CSW_CASE_ESCALATION_SECONDS", 300),
            "max_error_count": _int("CSW_MAX_ERRORS", 25),
            "header_timeout_seconds": _number("CSW_HEADER_TIMEOUT_SECONDS", 10),
            "pin_workers": os.environ.get("CSW_PIN_WORKERS", "1") != "0",
            "body_timeout_seconds": _number("CSW_BODY_TIMEOUT_SECONDS", 10),
            "page_size": _int("CSW_PAGE_SIZE", 50),
            "api_key_cache_seconds": _int("CSW_API_KEY_CACHE_SECONDS", 10),
            "aeo_cache_seconds": _int("CSW_AEO_CACHE_SECONDS", 10),
            "log_level": os.environ.get("CSW_LOG_LEVEL", "INFO").upper(),
            "api_rate_limit": os.environ.get("CSW_API_RATE_LIMIT", "100 per second"),
            "login_rate_limit": os.environ.get("CSW_LOGIN_RATE_LIMIT", "10 per minute"),
            "rate_limit_storage": os.environ.get("CSW_RATE_LIMIT_STORAGE", "memory://"),
            "secure_cookies": os.environ.get("CSW_SECURE_COOKIES", "0") == "1",
            "trusted_proxies": _int("CSW_TRUSTED_PROXIES", 0),
            "metrics_token": os.environ.get("CSW_METRICS_TOKEN") or None,
            "release_green": {"1": True, "0": False}.get(os.environ.get("CSW_RELEASE_GREEN", "")),
            "case_escalation_minutes": _positive_int("CSW_CASE_ESCALATION_MINUTES", 30),
            "outbox_retention_days": _int("CSW_OUTBOX_RETENTION_DAYS", 14),
            "dispatch_batch": int(_number("CSW_DISPATCH_BATCH", 500)),
            "dispatch_lease_seconds": _number("CSW_DISPATCH_LEASE_SECONDS", 60),
            "dispatch_interval_seconds": _number("CSW_DISPATCH_INTERVAL_SECONDS", 2),
            "dispatch_retry_base_seconds": _number("CSW_DISPATCH_RETRY_BASE_SECONDS", 1),
            "dispatch_retry_cap_seconds": _number("CSW_DISPATCH_RETRY_CAP_SECONDS", 300),
            "dispatch_max_attempts": int(_number("CSW_DISPATCH_MAX_ATTEMPTS", 5)),
            "dispatch_probe_base_seconds": _number("CSW_DISPATCH_PROBE_BASE_SECONDS", 2),
            "dispatch_probe_cap_seconds": _number("CSW_DISPATCH_PROBE_CAP_SECONDS", 300),
            "webhook_timeout_seconds": _number("CSW_WEBHOOK_TIMEOUT_SECONDS", 10),
            "amqp_url": os.environ.get("CSW_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            "amqp_exchange": os.environ.get("CSW_AMQP_EXCHANGE", "csw.routing"),
            "risk_model_dir": _path("CSW_RISK_MODEL_DIR"),
            "risk_history_csv": _path("CSW_RISK_HISTORY_CSV"),
            "risk_history_mapping": os.environ.get("CSW_RISK_HISTORY_MAPPING", "customs-declarations"),
            "risk_history_cache_seconds": _whole("CSW_RISK_HISTORY_CACHE_SECONDS", 300),
            "risk_threshold_cache_seconds": _whole("CSW_RISK_THRESHOLD_CACHE_SECONDS", 600),
            "lodge_alone_above_bytes": _whole("CSW_LODGE_ALONE_ABOVE_BYTES", LODGE_ALONE_ABOVE_BYTES),
        }
        if os.environ.get("CSW_SCHEMA_DIR"):
            values["schema_dir"] = Path(os.environ["CSW_SCHEMA_DIR"])
        if os.environ.get("CSW_RULES_DIR"):
            values["rules_dir"] = Path(os.environ["CSW_RULES_DIR"])
        values.update(overrides)
        return cls(**values)
