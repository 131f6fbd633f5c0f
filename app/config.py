"""Settings from the environment (CSW_*), with safe defaults for the embedded mode."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, in one place."""

    database_url: str
    secret_key: str
    instance_dir: Path
    schema_dir: Path = PROJECT_ROOT / "schemas"
    rules_dir: Path = PROJECT_ROOT / "rules"
    max_body_bytes: int = 5 * 1024 * 1024
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
            "max_error_count": _int("CSW_MAX_ERRORS", 25),
            "page_size": _int("CSW_PAGE_SIZE", 50),
            "api_key_cache_seconds": _int("CSW_API_KEY_CACHE_SECONDS", 10),
            "aeo_cache_seconds": _int("CSW_AEO_CACHE_SECONDS", 10),
            "log_level": os.environ.get("CSW_LOG_LEVEL", "INFO").upper(),
            "api_rate_limit": os.environ.get("CSW_API_RATE_LIMIT", "100 per second"),
            "login_rate_limit": os.environ.get("CSW_LOGIN_RATE_LIMIT", "10 per minute"),
            "rate_limit_storage": os.environ.get("CSW_RATE_LIMIT_STORAGE", "memory://"),
            "secure_cookies": os.environ.get("CSW_SECURE_COOKIES", "0") == "1",
            "trusted_proxies": _int("CSW_TRUSTED_PROXIES", 0),
            "release_green": {"1": True, "0": False}.get(os.environ.get("CSW_RELEASE_GREEN", "")),
        }
        if os.environ.get("CSW_SCHEMA_DIR"):
            values["schema_dir"] = Path(os.environ["CSW_SCHEMA_DIR"])
        if os.environ.get("CSW_RULES_DIR"):
            values["rules_dir"] = Path(os.environ["CSW_RULES_DIR"])
        values.update(overrides)
        return cls(**values)
