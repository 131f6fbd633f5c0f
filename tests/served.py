"""Run the real service for a test: ``csw db upgrade``, ``csw seed`` and gunicorn on a free port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL, REQUIRE_SERVICES, postgres_available

CSW = str(Path(sys.executable).with_name("csw"))
DEMO_KEY = "csw_demo_trading_0000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepared_env(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a migrated, seeded service whose files live under ``instance``."""
    env = {**os.environ, "CSW_INSTANCE_DIR": str(instance), "CSW_LOG_LEVEL": "WARNING",
           "CSW_DATABASE_URL": database_url or f"sqlite:///{instance / 'csw.db'}", **extra}
    subprocess.run([CSW, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([CSW, "seed"], env=env, check=True, capture_output=True)
    return env


def start(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``csw serve`` in its own process group; returns it and its base URL once healthy."""
    port = free_port()
    process = subprocess.Popen([CSW, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return process, base
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop(process, signal.SIGKILL)
                pytest.fail("csw serve did not come up")
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Signal the whole process group (gunicorn master and workers) and wait for the master."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    process.wait(timeout=15)


def postgres_database(suffix: str) -> str:
    """A PostgreSQL database beside the test database, recreated empty, so the session's one
    is untouched; skips (or fails with ``CSW_REQUIRE_SERVICES=1``) when PostgreSQL is down."""
    reason = postgres_available(POSTGRES_URL)
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"PostgreSQL required (CSW_REQUIRE_SERVICES=1) but unreachable: {reason}")
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    url = make_url(POSTGRES_URL)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def worker_pids(master: int) -> set[int]:
    """The gunicorn master's worker processes (Linux ``/proc``)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}
