"""Run the real service for a test: ``csw db upgrade``, ``csw seed`` and gunicorn on a free port.

The migrated, seeded database is made once per run and backend by the real commands (a SQLite
file, a PostgreSQL template database) and copied for each served instance: every ``csw``
subprocess pays the application's import, and the copies are what the commands would make."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
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


def _upgrade_and_seed(instance: Path, database_url: str) -> None:
    env = {**os.environ, "CSW_INSTANCE_DIR": str(instance), "CSW_LOG_LEVEL": "WARNING",
           "CSW_DATABASE_URL": database_url}
    subprocess.run([CSW, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([CSW, "seed"], env=env, check=True, capture_output=True)


_TEMPLATES: dict[str, str] = {}


def _seeded_template(backend: str) -> str:
    """The migrated, seeded template of ``backend`` (a SQLite file's path or a PostgreSQL
    database's name), made by ``csw db upgrade`` and ``csw seed`` at its first use in the run."""
    if backend not in _TEMPLATES:
        directory = Path(tempfile.mkdtemp(prefix="csw-served-template-"))
        atexit.register(shutil.rmtree, directory, True)
        if backend == "sqlite":
            path = directory / "csw.db"
            _upgrade_and_seed(directory, f"sqlite:///{path}")
            with sqlite3.connect(path) as connection:  # the whole database in the one file
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _TEMPLATES[backend] = str(path)
        else:
            url = make_url(POSTGRES_URL)
            name = f"{url.database}_served_template"
            _recreate_postgres(name)
            _upgrade_and_seed(directory, url.set(database=name).render_as_string(hide_password=False))
            _TEMPLATES[backend] = name
    return _TEMPLATES[backend]


def _recreate_postgres(name: str, template: str | None = None) -> None:
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if template:  # a copy needs its template alone: no session of the seeding commands left
                connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = :template AND pid <> pg_backend_pid()"),
                                   {"template": template})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    finally:
        admin.dispose()


def prepared_env(instance: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a migrated, seeded service whose files live under ``instance``: the
    database (``database_url``, else ``instance/csw.db``) becomes a copy of the run's seeded
    template of its backend."""
    url = database_url or f"sqlite:///{instance / 'csw.db'}"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database, url
        shutil.copyfile(_seeded_template("sqlite"), parsed.database)
    else:
        assert parsed.database, url
        _recreate_postgres(parsed.database, template=_seeded_template("postgresql"))
    return {**os.environ, "CSW_INSTANCE_DIR": str(instance), "CSW_LOG_LEVEL": "WARNING",
            "CSW_DATABASE_URL": url, **extra}


def start(env: dict[str, str], workers: int = 2) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``csw serve`` in its own process group; returns it and its base URL once healthy."""
    port = free_port()
    process = subprocess.Popen([CSW, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded 2-core machine can take half a minute to boot it
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


def stop_all(processes: list[subprocess.Popen[bytes]], sig: int = signal.SIGTERM) -> None:
    """``stop`` several at once: every process group is signalled before any is waited for, so
    their graceful shutdowns overlap."""
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            continue
    for process in processes:
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
    _recreate_postgres(name)
    return url.set(database=name).render_as_string(hide_password=False)


def worker_pids(master: int) -> set[int]:
    """The gunicorn master's worker processes (Linux ``/proc``)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}
