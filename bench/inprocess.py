"""The service in one process for the in-process benchmarks (``profile_intake``,
``profile_batch``, ``messages``): a scratch database migrated and seeded as ``csw`` does it,
and a Flask test client of the application on it, its API rate limit raised out of the way."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask.testing import FlaskClient

from bench.intake import migrate_and_seed, reset_postgres, service_env


@contextmanager
def scratch_client(postgres_url: str | None, prefix: str, *, default_gc: bool = False) -> Iterator[FlaskClient]:
    """A test client of the application on a fresh SQLite file (or ``postgres_url``, whose
    schema public is dropped). Unless ``default_gc``, the garbage collector is tuned as a
    served worker tunes it once the application is loaded."""
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        instance = Path(scratch)
        url = postgres_url or f"sqlite:///{instance / 'csw.db'}"
        if postgres_url:
            reset_postgres(url)
        env = service_env(url, instance)
        env["CSW_API_RATE_LIMIT"] = "1000000 per second"
        migrate_and_seed(env)
        os.environ.update(env)

        from app import create_app
        from app.platform.heap import settle_after_start

        client = create_app().test_client()
        if not default_gc:
            settle_after_start()
        yield client
