"""Benchmark declaration intake: the full service against a bare parse + schema-check ceiling.

Why: the target is "the full intake reaches at least half of the bare ceiling" (5-item
declaration, 16 concurrent clients). This measures both under the same conditions in
one run: gunicorn with production-like settings, wrk as a separate load generator, a
unique LRN per request (so every 202 is a real insert, not an idempotent replay), a
fresh database per backend, and afterwards a durability sanity check (rows stored >=
202s reported, counted by each run's LRNs).

Cases (``--cases``, default all, run in this order on one server per backend):
  5       the 5-item sample: throughput at --connections (the main figure)
  v2      the same 5 items in declaration schema v2 (samples/v2/valid/import-5-items.xml)
  v1bl    the v1 5-item sample naming the v2 and DEC-DMS samples' bill of lading (built in memory):
          the same declaration as v2 and dms, so the ratio measures the message, not what it says
  dms     the same 5 items as a WCO DEC-DMS document (samples/wco/valid/import-dec-dms-5-items.xml);
          both target within 20 % of the 5-item v1 throughput of the same run (the bare ceiling
          knows v1 only, so they are not sent to it)
  cargo   road cargo information, POST /api/v1/cargo (samples/cargo/road-electronics.xml, its
          expected crossing moved to tomorrow so the crossing-window rule accepts it): issue 21
          targets at least the 5-item v1 declaration throughput of the same run (same server,
          same wrk settings); stored rows counted in cargo_records by the run's LRNs
  50      the 50-item sample: throughput at --connections
  999     the schema's maximum, 999 items, built in memory by samples/generate.py's
          ``declaration()``: latency at --latency-connections (target p99 < 250 ms)
  status  GET /api/v1/declarations/{id} of ids picked at random from the declarations the
          first POST case stored (bench/wrk_get.lua): look-ups/s and latency
  floor   GET /api/v1/declarations/{malformed id} with a valid API key: the service answers
          400 before it touches a body or a table. This is its own request handling alone
          (conversation id, API key, rate limiter, metrics, error envelope, security headers,
          logs), on the error path: an approximate floor for any request this stack answers
Each POST case is also sent to the bare ceiling, and the 5-item case to the *durable* ceiling
of each backend (``bench/durable_app.py``: parse + schema check + one committed insert of the
document; issue 26's target is half of it, p99 < 100 ms): the full service and the ceiling are
served at once and measured in ``--pairs`` alternated turns, pooled, so that the host's drift
during the run weighs on both alike. ``--soak-seconds N`` then keeps posting
5-item declarations for N seconds and prints the gunicorn workers' resident memory (VmRSS
from /proc) at its start and end: it must stay flat under sustained load.

    .venv/bin/python -m bench.intake [--cases 5,v2,dms,cargo,50,999,status,floor] [--duration 15] [--warmup 3]
                                     [--connections 16] [--latency-connections 2] [--workers N]
                                     [--soak-seconds N] [--soak-backend sqlite|postgresql|both]
                                     [--backend sqlite|postgresql|both] [--rounds N] [--pairs N] [--no-ceilings]
                                     [--write-results]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import FrameType, ModuleType

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from app.db.session import normalise_url
from app.domain.problems import Rejection
from app.intake.service import Intake
from bench.results import RESULTS, write_section

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_ROOT / "bench"
BIN = Path(sys.executable).parent
LUA_SCRIPT = BENCH_DIR / "wrk_post.lua"
LUA_GET_SCRIPT = BENCH_DIR / "wrk_get.lua"
SAMPLE = PROJECT_ROOT / "samples" / "valid" / "import-5-items.xml"
SAMPLES = {5: SAMPLE, 50: PROJECT_ROOT / "samples" / "valid" / "import-50-items.xml"}
PROFILE_SAMPLES = {"v2": PROJECT_ROOT / "samples" / "v2" / "valid" / "import-5-items.xml",
                   "dms": PROJECT_ROOT / "samples" / "wco" / "valid" / "import-dec-dms-5-items.xml"}
PROFILE_TITLES = {"v2": "5 items (schema v2)", "dms": "5 items (WCO DEC-DMS)"}
TARGET_PROFILE_RATIO = 0.8  # v2 and DEC-DMS: within 20 % of v1's 5-item throughput
# The v2 and DEC-DMS samples name a bill of lading (as a Hong Kong declaration must name its
# cargo) that the bench database does not hold: rule R306 holds them and opens an officer case,
# and write-off keeps the reference waiting for its line. The v1 sample names none. "v1bl" is
# the v1 sample naming the same bill of lading, so all three lodge the same declaration.
SAME_CARGO = (b"<PreviousDocument><TypeCode>BL</TypeCode><ID>CSLYTNHKG2611081</ID>"
              b"<LineNumeric>1</LineNumeric></PreviousDocument>")
V1_SAME_CARGO_TITLE = "5 items (v1, naming the same bill of lading)"
CARGO_SAMPLE = PROJECT_ROOT / "samples" / "cargo" / "road-electronics.xml"
CARGO_ENDPOINT = "/api/v1/cargo"
CARGO_TITLE = "road cargo (1 consignment)"
TARGET_CARGO_RATIO = 1.0  # issue 21: cargo lodgement at least as fast as 5-item declaration intake
GENERATOR = PROJECT_ROOT / "samples" / "generate.py"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://127.0.0.1:5432/test"
API_KEY = "csw_demo_trading_0000000000000000"
ENDPOINT = "/api/v1/declarations"
RETIRED_BARE_RATIO = 0.5  # of the bare check: retired by issue 26 for TARGET_DURABLE_RATIO
TARGET_RATE = 1000.0  # 5-item declarations/s
TARGET_P99_MS = 50.0  # 5-item declarations at --connections
TARGET_999_P99_MS = 250.0
TARGET_999_TIMES_BARE = 5.0  # issue 26 item 3's clause for a slower host
TARGET_DURABLE_RATIO = 0.5  # issue 26: the full 5-item intake against the durable ceiling, same backend
TARGET_DURABLE_P99_MS = 100.0
POST_CASES = {"5": 5, "v1bl": 5, "v2": 5, "dms": 5, "50": 50, "999": 999}
ALL_CASES = ("5", "v1bl", "v2", "dms", "cargo", "50", "999", "status", "floor")
FLOOR_REFERENCE = "NOT-A-REFERENCE"  # fails the reference format: 400 INVALID_REFERENCE, no query
STATUS_IDS = 1000  # ids sampled for the look-ups
RSS_FLAT_GROWTH = 0.10  # "flat": the workers' RSS grows by less than this share during the soak
# One benchmark client sends everything; the per-key limit (100/s by default, counted per
# worker with memory storage) would answer 429s. The limiter still runs on every request.
BENCH_RATE_LIMIT = "1000000 per second"
# the server `csw serve` runs (app/cli.py): asyncio workers reading whole requests, a thread pool each
SERVE_WORKER = "app.serving.worker.Worker"
# its `--threads` (8); CSW_BENCH_SERVE_THREADS compares other pool sizes (bench/RESULTS.md, issue 26)
SERVE_THREADS = int(os.environ.get("CSW_BENCH_SERVE_THREADS", "8"))

STARTUP_TIMEOUT_S = 60.0
SETUP_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 20.0
WRK_GRACE_S = 60.0
POSTGRES_BUSY_WAIT_S = 120.0


class BenchError(RuntimeError):
    """A precondition or step failed; the message says what to do."""


@dataclass(frozen=True)
class WrkResult:
    """wrk's figures for one run (the WRK_RESULT line printed by ``wrk_post.lua``)."""

    requests: int
    duration_s: float
    accepted: int
    other_2xx: int
    non_2xx: int
    socket_errors: int
    timeouts: int
    accepted_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: str
    first_error: str | None
    quantiles_ms: tuple[float, ...] = ()  # the latency at every tenth of a percent (WRK_QUANTILES_MS)

    @property
    def answered_per_s(self) -> float:
        """Answers per second whatever their status (``accepted_per_s`` counts the expected one)."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    @classmethod
    def parse(cls, output: str) -> WrkResult:
        line = next((ln for ln in output.splitlines() if ln.startswith("WRK_RESULT ")), None)
        if line is None:
            raise BenchError(f"wrk printed no WRK_RESULT line; its output was:\n{output}")
        fields = dict(token.split("=", 1) for token in line.split()[1:])
        first_error = next((ln.removeprefix("WRK_FIRST_ERROR ") for ln in output.splitlines()
                            if ln.startswith("WRK_FIRST_ERROR ")), None)
        quantiles = next((ln.removeprefix("WRK_QUANTILES_MS ") for ln in output.splitlines()
                          if ln.startswith("WRK_QUANTILES_MS ")), "")
        return cls(
            requests=int(fields["requests"]), duration_s=float(fields["duration_s"]),
            accepted=int(fields["accepted"]), other_2xx=int(fields["other_2xx"]),
            non_2xx=int(fields["non_2xx"]), socket_errors=int(fields["socket_errors"]),
            timeouts=int(fields["timeouts"]), accepted_per_s=float(fields["accepted_per_s"]),
            p50_ms=float(fields["p50_ms"]), p95_ms=float(fields["p95_ms"]),
            p99_ms=float(fields["p99_ms"]), statuses=fields["statuses"], first_error=first_error,
            quantiles_ms=tuple(float(value) for value in quantiles.split(",") if value),
        )


def pooled_percentile(results: list[WrkResult], percent: float) -> float:
    """The latency under which ``percent`` of the requests of all ``results`` were answered.

    Why: percentiles of separate runs cannot be averaged; each run's latency distribution (its
    latency at every tenth of a percent) is weighted by the requests it answered and the
    mixture's percentile read off."""
    points = sorted((value, run.requests / len(run.quantiles_ms))
                    for run in results if run.quantiles_ms for value in run.quantiles_ms)
    if not points:
        raise BenchError("wrk printed no WRK_QUANTILES_MS line to pool")
    wanted = sum(weight for _, weight in points) * percent / 100
    seen = 0.0
    for value, weight in points:
        seen += weight
        if seen >= wanted - 1e-9:
            return value
    return points[-1][0]


@dataclass(frozen=True)
class RunResult:
    """One measured configuration: a case on the full service on a backend, or on the bare ceiling."""

    label: str  # "full (sqlite)", "bare ceiling (parse + schema)"
    case: str  # "5 items", "status look-ups (1000 ids)", ...
    connections: int
    wrk: WrkResult
    warmup_accepted: int = 0
    rows: int | None = None  # rows stored with this run's LRNs (full service POSTs only)
    bare: bool = False
    status: bool = False  # GET look-ups: "accepted" counts 200s
    floor: bool = False  # the request floor: every answer is an expected 400
    cpu: CpuUse | None = None  # paired turns: where the machine's CPU went

    @property
    def per_s(self) -> float:
        """The rate the table shows: every answer for the floor (all 400s), 2xx answers otherwise."""
        return self.wrk.answered_per_s if self.floor else self.wrk.accepted_per_s

    @property
    def failed(self) -> bool:
        """Rows missing, nothing accepted, or (floor) any answer but the expected 400."""
        if self.floor:
            return self.wrk.requests == 0 or not self.wrk.statuses.startswith("400:") or "," in self.wrk.statuses
        return self.durable is False or self.wrk.accepted == 0

    @property
    def durable(self) -> bool | None:
        if self.rows is None:
            return None
        return self.rows >= self.warmup_accepted + self.wrk.accepted


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    python: str
    date: str
    revision: str
    temp_fs: str
    load_average: str

    @classmethod
    def describe(cls) -> Machine:
        model = "unknown"
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        return cls(
            cpus=os.cpu_count() or 1,
            cpu_model=model,
            python=platform.python_version(),
            date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            revision=_git_revision(),
            temp_fs=_filesystem_of(Path(tempfile.gettempdir())),
            load_average=" ".join(f"{load:.2f}" for load in os.getloadavg()),
        )


def _git_revision() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        return found.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _filesystem_of(path: Path) -> str:
    """SQLite's fsync cost depends on where the file lives; tmpfs would flatter it."""
    try:
        found = subprocess.run(["df", "--output=fstype", str(path)], capture_output=True,
                               text=True, timeout=10, check=True)
        return found.stdout.split()[-1]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


# --- preconditions ---------------------------------------------------------------------

def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed; install it with: apt-get install wrk "
                         "(run apt-get update first if the package is not found)")
    return wrk


def _sample_generator() -> ModuleType:
    """samples/generate.py (not a package), for its ``declaration()``."""
    spec = importlib.util.spec_from_file_location("csw_samples_generate", GENERATOR)
    if spec is None or spec.loader is None:
        raise BenchError(f"cannot load {GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def declaration_body(items: int = 5, profile: str = "v1") -> tuple[bytes, str]:
    """A declaration with ``items`` goods items and where it came from, checked valid before use.

    The committed sample when there is one (5 and 50 items; ``profile`` v2 or dms: the 5-item
    sample in schema v2 or as a WCO DEC-DMS document); otherwise built in memory by
    samples/generate.py (999 items: no such file in samples/, whose files the tests all
    post); the test factory's as a last resort."""
    sample = PROFILE_SAMPLES[profile] if profile in PROFILE_SAMPLES else SAMPLES.get(items)
    if profile == "v1bl" and sample is not None:
        body = sample.read_bytes().replace(b"</Consignment>", SAME_CARGO + b"</Consignment>", 1)
        source = f"{sample.relative_to(PROJECT_ROOT)} naming bill of lading CSLYTNHKG2611081"
    elif sample is not None and sample.exists():
        body, source = sample.read_bytes(), str(sample.relative_to(PROJECT_ROOT))
    elif GENERATOR.exists():
        generator = _sample_generator()
        containers = min(len(generator.CONTAINERS), max(1, items // 25))
        body = generator.declaration(items, "BENCH-LRN", "2026-11-20T10:15:00+08:00", containers).encode()
        source = f"built by samples/generate.py declaration({items}, …), {len(body) // 1024} KiB"
    else:
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.factories import declaration_xml

        body, source = declaration_xml(lrn="BENCH-LRN", items=items), "tests.factories"
    try:
        Intake(PROJECT_ROOT / "schemas").receive_declaration(body)
    except Rejection as rejection:
        raise BenchError(f"the {items}-item body template is not a valid declaration: "
                         f"{rejection.message}") from None
    if body.count(b"<FunctionalReferenceID>") != 1:
        raise BenchError("the body template needs exactly one <FunctionalReferenceID>")
    return body, source


def cargo_body() -> tuple[bytes, str]:
    """The road cargo sample with its expected crossing moved to tomorrow (the crossing-window
    rule refuses a crossing less than 30 minutes or more than 14 days ahead), checked valid."""
    from app.cargo.mapping import received

    crossing = (datetime.now(timezone.utc) + timedelta(days=1)).replace(microsecond=0).isoformat()
    body = re.sub(rb"<ExpectedCrossingDateTime>[^<]*</ExpectedCrossingDateTime>",
                  f"<ExpectedCrossingDateTime>{crossing}</ExpectedCrossingDateTime>".encode(),
                  CARGO_SAMPLE.read_bytes(), count=1)
    try:
        received(body, Intake(PROJECT_ROOT / "schemas").check(body, "cargo"))
    except Rejection as rejection:
        raise BenchError(f"the cargo body is not valid cargo information: {rejection.message}") from None
    if body.count(b"<FunctionalReferenceID>") != 1:
        raise BenchError("the cargo body needs exactly one <FunctionalReferenceID>")
    return body, f"{CARGO_SAMPLE.relative_to(PROJECT_ROOT)}, expected crossing {crossing}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- databases -------------------------------------------------------------------------

def _engine(url: str) -> Engine:
    url = normalise_url(url)
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {"timeout": 30}
    return create_engine(url, connect_args=connect_args)


def fresh_database(instance: Path, sqlite_name: str, backend: str, postgres_url: str) -> str:
    """A new directory ``instance`` and an empty database for one server of the run: a SQLite
    file in it, or ``postgres_url`` with its schema public dropped."""
    instance.mkdir()
    if backend == "sqlite":
        return f"sqlite:///{instance / sqlite_name}"
    reset_postgres(postgres_url)
    return postgres_url


def reset_postgres(url: str) -> None:
    """Scratch database: drop everything in schema public.

    The test suite uses the same scratch database, so wait (bounded) until no other
    session is connected to it rather than pulling the schema from under a test run."""
    others = text("SELECT count(*) FROM pg_stat_activity "
                  "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    engine = _engine(url)
    try:
        deadline = time.monotonic() + POSTGRES_BUSY_WAIT_S
        while True:
            with engine.connect() as connection:
                busy = int(connection.execute(others).scalar_one())
            if busy == 0:
                break
            if time.monotonic() >= deadline:
                raise BenchError(f"{busy} other session(s) still use {url} after "
                                 f"{POSTGRES_BUSY_WAIT_S:.0f}s (a test run?); not resetting it. "
                                 "Retry later or pass --postgres-url for another scratch database.")
            time.sleep(2)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except OperationalError as exc:
        raise BenchError(f"PostgreSQL at {url} is unreachable: {exc.orig}") from None
    finally:
        engine.dispose()


def _lrn_where(tags: list[str]) -> tuple[str, dict[str, str]]:
    """A WHERE clause for the rows whose LRN the wrk script made from one of ``tags``
    ("<tag>-<thread>-<n>"; tags are letters and hex digits, no LIKE wildcards)."""
    clause = " OR ".join(f"lrn LIKE :tag{n}" for n in range(len(tags)))
    return f"({clause})", {f"tag{n}": f"{tag}-%" for n, tag in enumerate(tags)}


def count_declarations(url: str, tags: list[str] | None = None, table: str = "declarations") -> int:
    """Rows in ``table`` (declarations, or cargo_records); only those of the runs ``tags`` when given."""
    where, params = _lrn_where(tags) if tags else ("1 = 1", {})
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT count(*) FROM {table} WHERE {where}")
            return int(connection.execute(query, params).scalar_one())
    finally:
        engine.dispose()


def declaration_ids(url: str, tags: list[str], limit: int) -> list[str]:
    """Up to ``limit`` ids, picked at random, of the declarations stored by the runs ``tags``."""
    where, params = _lrn_where(tags)
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT id FROM declarations WHERE {where} ORDER BY random() LIMIT :limit")
            return [str(row[0]) for row in connection.execute(query, {**params, "limit": limit})]
    finally:
        engine.dispose()


def group_sizes(base: str) -> tuple[float, float]:
    """The service's ``csw_lodging_group_size`` so far (sum, count): how many concurrent posts
    each commit of new declarations carried (all workers, through /metrics)."""
    with urllib.request.urlopen(base + "/metrics", timeout=5) as answer:
        lines = answer.read().decode().splitlines()
    found = {"sum": 0.0, "count": 0.0}
    for line in lines:
        for kind in found:
            if line.startswith(f"csw_lodging_group_size_{kind} "):
                found[kind] = float(line.split()[-1])
    return found["sum"], found["count"]


def service_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CSW_DATABASE_URL": database_url,
        "CSW_INSTANCE_DIR": str(instance_dir),
        "CSW_LOG_LEVEL": "WARNING",
        # as ``csw serve`` does: metrics shared between workers through files
        "PROMETHEUS_MULTIPROC_DIR": str(instance_dir / "prometheus"),
    })
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)  # the csw commands write there too
    return env


def migrate_and_seed(env: dict[str, str]) -> None:
    for command in (["db", "upgrade"], ["seed"]):
        done = subprocess.run([str(BIN / "csw"), *command], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=SETUP_TIMEOUT_S)
        if done.returncode != 0:
            raise BenchError(f"csw {' '.join(command)} failed:\n{done.stdout}{done.stderr}")


# --- the server --------------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    pid: int  # the gunicorn master


@contextmanager
def gunicorn_server(app_spec: str, workers: int, env: dict[str, str], log_path: Path,
                    root: Path = PROJECT_ROOT) -> Iterator[Server]:
    """Serve ``app_spec`` on a free port; yields its URL and master pid; always stops the server.
    ``root``: the checkout whose code is served (another one: ``bench.ab --tree-a``)."""
    port = free_port()
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", SERVE_WORKER, "--threads", str(SERVE_THREADS), "--log-level", "warning",
            "--timeout", "30", "--graceful-timeout", "5", "--chdir", str(root), app_spec]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=root, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log_path)
        yield Server(base, process.pid)
    finally:
        stop(process)


@contextmanager
def gunicorn(app_spec: str, workers: int, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Serve ``app_spec`` on a free port; yields the base URL; always stops the server."""
    with gunicorn_server(app_spec, workers, env, log_path) as server:
        yield server.base


def wait_healthy(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise BenchError(f"{base}/healthz not ready after {STARTUP_TIMEOUT_S:.0f}s ({last}):\n{_tail(log_path)}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the master (it stops its workers), then KILL its process group if it lingers."""
    if process.poll() is not None:
        return
    try:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # our own session: master and its workers
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- memory ------------------------------------------------------------------------------

def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (its workers), from /proc (``pgrep -P`` as a fallback)."""
    pids: set[int] = set()
    found_any = False
    for children in Path(f"/proc/{master}/task").glob("*/children"):
        found_any = True
        with suppress(OSError, ValueError):
            pids.update(int(pid) for pid in children.read_text().split())
    if not found_any:
        try:
            listed = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True, timeout=10)
            pids.update(int(pid) for pid in listed.stdout.split())
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    return sorted(pids)


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB (None if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds the process has used so far (Linux ``/proc``); None once
    it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (those gone count nothing)."""
    return sum(used for pid in pids if (used := process_cpu_seconds(pid)) is not None)


def machine_ticks() -> tuple[int, int]:
    """The machine's CPU time so far, all of it and idle (idle and waiting for I/O), in ticks."""
    try:
        values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(values), values[3] + values[4]


@dataclass(frozen=True)
class CpuUse:
    """Where the machine's CPU went during a measured turn, per 2xx answer: the server's
    workers, and the whole machine (every core's busy time: workers, database, wrk, kernel);
    and the share of the machine that stood idle. Why: issue 26's ratio is set by CPU per
    declaration and by how much of the machine is left idle (bench/RESULTS.md, eleventh
    session); the turn's rate alone cannot tell the two apart."""

    workers_ms: float
    machine_ms: float
    idle: float

    def describe(self) -> str:
        return (f"CPU a declaration: workers {self.workers_ms:.2f} ms, machine {self.machine_ms:.2f} ms; "
                f"{100 * self.idle:.0f} % idle")


@dataclass(frozen=True)
class CpuMark:
    """The server's workers and their CPU, and the machine's ticks, when a turn began."""

    workers: list[int]
    workers_s: float
    total: int
    idle: int

    @classmethod
    def now(cls, master: int) -> CpuMark:
        workers = worker_pids(master)
        total, idle = machine_ticks()
        return cls(workers, cpu_seconds(workers), total, idle)

    def since(self, answered: int) -> CpuUse | None:
        """The CPU used since this mark, per answer (None if nothing was answered or counted)."""
        total, idle = machine_ticks()
        ticks = total - self.total
        if answered <= 0 or ticks <= 0:
            return None
        idle_ticks = idle - self.idle
        busy_s = (ticks - idle_ticks) / os.sysconf("SC_CLK_TCK")
        return CpuUse(1000 * (cpu_seconds(self.workers) - self.workers_s) / answered, 1000 * busy_s / answered,
                      idle_ticks / ticks)


@dataclass(frozen=True)
class Rss:
    """Resident memory of each gunicorn worker (pid -> KiB) at one moment."""

    kib: dict[int, int]

    @property
    def total_mib(self) -> float:
        return sum(self.kib.values()) / 1024

    def describe(self) -> str:
        each = ", ".join(f"{kib / 1024:.1f}" for _pid, kib in sorted(self.kib.items()))
        return f"{self.total_mib:.1f} MiB ({len(self.kib)} workers: {each})"


def sample_rss(master: int) -> Rss:
    found = {pid: rss_kib(pid) for pid in worker_pids(master)}
    return Rss({pid: kib for pid, kib in found.items() if kib is not None})


def wait_for_workers(master: int, workers: int, timeout_s: float = 20.0) -> None:
    """Until all workers are forked and have had a moment to import the app (idle RSS)."""
    deadline = time.monotonic() + timeout_s
    while len(worker_pids(master)) < workers and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)


# --- load ------------------------------------------------------------------------------

def run_wrk(wrk: str, url: str, script: Path, script_args: list[str], seconds: int, connections: int,
            threads: int, tick: Callable[[], None] | None = None, tick_every_s: float = 5.0) -> WrkResult:
    """One wrk run; ``tick`` is called every ``tick_every_s`` while it runs (memory samples)."""
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(script), url, "--", *script_args]
    deadline = time.monotonic() + seconds + WRK_GRACE_S
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        while True:
            remaining = deadline - time.monotonic()
            try:
                out, err = process.communicate(timeout=max(0.1, min(tick_every_s, remaining) if tick
                                                           else remaining))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    process.kill()
                    process.communicate()
                    raise BenchError(f"wrk did not finish within {seconds + WRK_GRACE_S:.0f}s") from None
                if tick is not None:
                    tick()
    if process.returncode != 0:
        raise BenchError(f"wrk failed ({process.returncode}):\n{out}{err}")
    return WrkResult.parse(out)


@dataclass(frozen=True)
class Case:
    """A POST case: one declaration (or cargo) template, sent with a unique LRN per request."""

    name: str  # "5", "v2", "dms", "cargo", "50", "999"
    items: int  # goods items (0: cargo information)
    body_file: Path
    source: str
    connections: int
    endpoint: str = ENDPOINT
    table: str = "declarations"  # where its rows are counted

    @property
    def latency_only(self) -> bool:
        return self.items == 999

    @property
    def profile(self) -> str:
        """v1, v1 naming the samples' cargo, or the v2 / WCO DEC-DMS form of the 5-item
        declaration; cargo for cargo."""
        if self.name == "cargo":
            return "cargo"
        return self.name if self.name in PROFILE_SAMPLES or self.name == "v1bl" else "v1"

    @property
    def title(self) -> str:
        if self.name == "cargo":
            return CARGO_TITLE
        if self.name == "v1bl":
            return V1_SAME_CARGO_TITLE
        return PROFILE_TITLES.get(self.name, f"{self.items} items")


@dataclass(frozen=True)
class Posted:
    warmup_accepted: int
    result: WrkResult
    tags: list[str]  # the LRN prefixes of the warm-up and the measured run


@dataclass(frozen=True)
class Load:
    wrk: str
    duration: int
    warmup: int
    threads: int

    def post_once(self, base: str, case: Case, seconds: int, tag: str,
                  tick: Callable[[], None] | None = None, tick_every_s: float = 5.0) -> WrkResult:
        return run_wrk(self.wrk, base + case.endpoint, LUA_SCRIPT, [str(case.body_file), tag, API_KEY], seconds,
                       case.connections, min(self.threads, case.connections), tick, tick_every_s)

    def warm(self, base: str, case: Case, label: str) -> tuple[int, str]:
        tag = f"W{secrets.token_hex(3)}"
        warm = self.post_once(base, case, self.warmup, tag)
        print(f"  [{label}] warm-up: {warm.accepted} accepted, {warm.non_2xx} non-2xx", flush=True)
        return warm.accepted, tag

    def post(self, base: str, case: Case, label: str) -> Posted:
        """Warm up (imports, connection pools, page cache), then measure; LRNs never repeat."""
        warm_accepted, warm_tag = self.warm(base, case, label)
        tag = f"M{secrets.token_hex(3)}"
        result = self.post_once(base, case, self.duration, tag)
        print(f"  [{label}] {result.accepted_per_s:.1f}/s, p50 {result.p50_ms:.1f} ms, "
              f"p99 {result.p99_ms:.1f} ms, {result.non_2xx} non-2xx", flush=True)
        return Posted(warm_accepted, result, [warm_tag, tag])

    def look_up(self, base: str, ids_file: Path, connections: int, label: str) -> WrkResult:
        """Status look-ups (GET) of the ids in ``ids_file``, after a warm-up."""
        threads = min(self.threads, connections)
        script_args = [str(ids_file), API_KEY]
        warm = run_wrk(self.wrk, base + ENDPOINT, LUA_GET_SCRIPT, script_args, self.warmup, connections, threads)
        print(f"  [{label}] warm-up: {warm.accepted} answered, {warm.non_2xx} non-2xx", flush=True)
        result = run_wrk(self.wrk, base + ENDPOINT, LUA_GET_SCRIPT, script_args, self.duration, connections,
                         threads)
        print(f"  [{label}] {result.answered_per_s:.1f} answers/s ({result.statuses}), "
              f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms", flush=True)
        return result


@dataclass(frozen=True)
class Soak:
    """Resident memory of the workers across a sustained 5-item load."""

    backend: str
    seconds: int
    after_startup: Rss
    start: Rss
    end: Rss
    peak_mib: float
    run: RunResult

    @property
    def growth_mib(self) -> float:
        return self.end.total_mib - self.start.total_mib

    @property
    def same_workers(self) -> bool:
        return set(self.start.kib) == set(self.end.kib)

    @property
    def flat(self) -> bool:
        return self.same_workers and self.growth_mib <= RSS_FLAT_GROWTH * self.start.total_mib


@dataclass
class BackendRuns:
    backend: str
    runs: list[RunResult] = field(default_factory=list)
    after_startup: Rss | None = None
    after_cases: Rss | None = None
    soak: Soak | None = None


def seeded_service(instance: Path, backend: str, postgres_url: str, label: str) -> tuple[str, dict[str, str]]:
    """A fresh database for the full service in ``instance``, migrated and seeded, and the
    service's environment (the API rate limit raised for the benchmark's one client)."""
    url = fresh_database(instance, "csw.db", backend, postgres_url)
    env = service_env(url, instance)
    env["CSW_API_RATE_LIMIT"] = BENCH_RATE_LIMIT
    print(f"[{label}] migrating and seeding a fresh database", flush=True)
    migrate_and_seed(env)
    return url, env


def bench_full(backend: str, cases: list[Case], status: bool, floor: bool, soak_seconds: int,
               soak_case: Case | None, load: Load, connections: int, workers: int, work_dir: Path,
               postgres_url: str, rounds: int = 1) -> BackendRuns:
    instance = work_dir / backend
    url, env = seeded_service(instance, backend, postgres_url, backend)
    done = BackendRuns(backend)
    with gunicorn_server("app.wsgi:app", workers, env, instance / "gunicorn.log") as server:
        wait_for_workers(server.pid, workers)
        done.after_startup = sample_rss(server.pid)
        print(f"[{backend}] gunicorn app.wsgi:app, {workers} workers at {server.base}; "
              f"workers' RSS after start-up {done.after_startup.describe()}", flush=True)
        lookup_tags: list[str] | None = None
        for case in (case for _round in range(rounds) for case in cases):
            label = f"{backend}, {case.title}"
            stored_before = group_sizes(server.base)
            posted = load.post(server.base, case, label)
            stored_after = group_sizes(server.base)
            commits = stored_after[1] - stored_before[1]
            if commits:
                print(f"  [{label}] {stored_after[0] - stored_before[0]:.0f} new declarations in {commits:.0f} "
                      f"commits: {(stored_after[0] - stored_before[0]) / commits:.2f} a commit", flush=True)
            rows = count_declarations(url, posted.tags, case.table)
            done.runs.append(RunResult(f"full ({backend})", case.title, case.connections, posted.result,
                                       posted.warmup_accepted, rows))
            if case.table == "declarations":
                lookup_tags = lookup_tags or posted.tags
        if status and lookup_tags:
            ids = declaration_ids(url, lookup_tags, STATUS_IDS)
            if not ids:
                raise BenchError(f"[{backend}] no stored declarations to look up")
            ids_file = instance / "declaration-ids.txt"
            ids_file.write_text("\n".join(ids) + "\n")
            result = load.look_up(server.base, ids_file, connections, f"{backend}, status look-ups")
            done.runs.append(RunResult(f"full ({backend})", f"status look-ups ({len(ids)} ids)",
                                       connections, result, status=True))
        if floor:
            reference_file = instance / "floor-reference.txt"
            reference_file.write_text(FLOOR_REFERENCE + "\n")
            result = load.look_up(server.base, reference_file, connections, f"{backend}, request floor")
            done.runs.append(RunResult(f"full ({backend})", "request floor (authenticated 400, no body)",
                                       connections, result, floor=True))
        done.after_cases = sample_rss(server.pid)
        if soak_seconds and soak_case is not None:
            done.soak = soak(server, backend, url, soak_case, load, soak_seconds, done.after_startup)
            done.runs.append(done.soak.run)
    return done


def soak(server: Server, backend: str, url: str, case: Case, load: Load, seconds: int,
         after_startup: Rss) -> Soak:
    """Post 5-item declarations for ``seconds``; the workers' RSS at its start and end."""
    label = f"{backend}, soak"
    warm_accepted, warm_tag = load.warm(server.base, case, label)
    start = sample_rss(server.pid)
    print(f"  [{label}] {seconds} s of 5-item declarations; workers' RSS at the start {start.describe()}",
          flush=True)
    peak = [start.total_mib]
    tag = f"S{secrets.token_hex(3)}"
    result = load.post_once(server.base, case, seconds, tag,
                            tick=lambda: peak.append(sample_rss(server.pid).total_mib),
                            tick_every_s=max(1.0, seconds / 20))
    end = sample_rss(server.pid)
    peak.append(end.total_mib)
    print(f"  [{label}] {result.accepted_per_s:.1f}/s; workers' RSS at the end {end.describe()} "
          f"({end.total_mib - start.total_mib:+.1f} MiB)", flush=True)
    rows = count_declarations(url, [warm_tag, tag])
    run = RunResult(f"full ({backend})", f"5 items, soak {seconds} s", case.connections, result,
                    warm_accepted, rows)
    return Soak(backend, seconds, after_startup, start, end, max(peak), run)


@dataclass(frozen=True)
class Paired:
    """Issue 26's comparison on one backend: the full service and the durable ceiling, measured
    in turns (``full`` and ``ceiling`` hold one run each per turn)."""

    backend: str
    full: list[RunResult]
    ceiling: list[RunResult]


def bench_paired(backend: str, case: Case, load: Load, workers: int, work_dir: Path, postgres_url: str,
                 pairs: int) -> Paired:
    """The 5-item case on the full service and on the durable ceiling (``bench/durable_app.py``)
    of ``backend``, both served at once and measured in ``pairs`` turns each, alternating which
    goes first. Why: this host's speed moves by a quarter between runs minutes apart (bench/
    RESULTS.md); measured one after the other, the ratio said as much about the minute as about
    the service. In turns, both meet the same host, and the ratio is of all turns pooled."""
    instance = work_dir / f"paired-{backend}"
    url, env = seeded_service(instance, backend, postgres_url, f"paired {backend}")
    ceiling_instance = instance / "durable"
    ceiling_instance.mkdir()
    # PostgreSQL: one scratch database for both (the ceiling's only table is durable_ceiling)
    ceiling_url = f"sqlite:///{ceiling_instance / 'durable.db'}" if backend == "sqlite" else url
    ceiling_env = service_env(ceiling_url, ceiling_instance)
    full: list[RunResult] = []
    ceiling: list[RunResult] = []
    with gunicorn_server("app.wsgi:app", workers, env, instance / "gunicorn.log") as full_server, \
            gunicorn_server("bench.durable_app:app", workers, ceiling_env,
                            ceiling_instance / "gunicorn.log") as ceiling_server:
        full_base, ceiling_base = full_server.base, ceiling_server.base
        print(f"[paired {backend}] full service at {full_base}, durable ceiling at {ceiling_base}, "
              f"{pairs} turns each", flush=True)
        warm_accepted, warm_tag = load.warm(full_base, case, f"paired {backend}, full")
        ceiling_warm, _ = load.warm(ceiling_base, case, f"paired {backend}, durable ceiling")
        for turn in range(pairs):
            order = [True, False] if turn % 2 == 0 else [False, True]
            for is_full in order:
                tag = f"P{secrets.token_hex(3)}"
                server = full_server if is_full else ceiling_server
                label = f"{'full' if is_full else 'durable ceiling'} ({backend})"
                mark = CpuMark.now(server.pid)
                result = load.post_once(server.base, case, load.duration, tag)
                cpu = mark.since(result.accepted)
                print(f"  [paired {backend}, turn {turn + 1}] {label}: {result.accepted_per_s:.1f}/s, "
                      f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.non_2xx} non-2xx"
                      + (f"; {cpu.describe()}" if cpu else ""), flush=True)
                first = turn == 0  # the warm-up's figures go with each server's first turn
                if is_full:
                    tags = [warm_tag, tag] if first else [tag]
                    full.append(RunResult(f"{label}, turn {turn + 1}", case.title, case.connections, result,
                                          warm_accepted if first else 0, count_declarations(url, tags), cpu=cpu))
                else:
                    ceiling.append(RunResult(f"{label}, turn {turn + 1}", case.title, case.connections, result,
                                             ceiling_warm if first else 0, bare=True, cpu=cpu))
    return Paired(backend, full, ceiling)


def bench_bare(cases: list[Case], load: Load, workers: int, work_dir: Path) -> list[RunResult]:
    instance = work_dir / "bare"
    instance.mkdir()
    env = service_env("sqlite://", instance)  # the bare app opens no database
    runs = []
    with gunicorn("bench.bare_app:app", workers, env, instance / "gunicorn.log") as base:
        print(f"[bare] gunicorn bench.bare_app:app, {workers} workers at {base}", flush=True)
        for case in (case for case in cases if case.profile == "v1"):  # the bare ceiling knows v1 only
            posted = load.post(base, case, f"bare, {case.title}")
            runs.append(RunResult("bare ceiling (parse + schema)", case.title, case.connections,
                                  posted.result, posted.warmup_accepted, bare=True))
    return runs


# --- report ------------------------------------------------------------------------------

def durable_verdicts(paired: list[Paired]) -> list[str]:
    """Issue 26's verdict per backend, over all turns pooled: the full service's rate against the
    ceiling's, and the full service's p99 (with the ceiling's own p99 beside it: where even the
    ceiling misses p99 < 100 ms, so would any durable intake on this host)."""
    lines = []
    for pair in paired:
        if not pair.full or not pair.ceiling:
            continue
        full_rate, ceiling_rate = _pooled_rate(pair.full), _pooled_rate(pair.ceiling)
        if not ceiling_rate:
            continue
        ratio = full_rate / ceiling_rate
        full_p99 = pooled_percentile([run.wrk for run in pair.full], 99)
        ceiling_p99 = pooled_percentile([run.wrk for run in pair.ceiling], 99)
        verdict = "meets" if ratio >= TARGET_DURABLE_RATIO and full_p99 < TARGET_DURABLE_P99_MS else "MISSES"
        turns = ", ".join(f"{f.wrk.accepted_per_s:.0f}/{c.wrk.accepted_per_s:.0f}"
                          for f, c in zip(pair.full, pair.ceiling, strict=True))
        lines.append(f"- full ({pair.backend}), 5 items, {len(pair.full)} turns with the durable ceiling pooled: "
                     f"**{ratio:.2f}** of it ({full_rate:.0f}/s against {ceiling_rate:.0f}/s; each turn full/ceiling "
                     f"{turns}/s), p99 {full_p99:.0f} ms (the ceiling's own: {ceiling_p99:.0f} ms) — {verdict} issue "
                     f"26's target (≥ {TARGET_DURABLE_RATIO:.2f}, p99 < {TARGET_DURABLE_P99_MS:.0f} ms)")
        lines += [_durability(run, run.label) for run in pair.full]
        lines += [f"  - {run.label}: {run.cpu.describe()}" for run in [*pair.full, *pair.ceiling] if run.cpu]
    return lines


def _ceiling(run: RunResult, bare: list[RunResult]) -> RunResult | None:
    """The bare run of the same case; the floor is set against the 5-item ceiling."""
    case = "5 items" if run.floor else run.case
    return next((b for b in bare if b.case == case and b.label.startswith("bare")), None)


def table(results: list[BackendRuns], bare: list[RunResult], turns: list[RunResult]) -> list[str]:
    lines = [
        "| case | configuration | connections | answered/s | p50 ms | p95 ms | p99 ms | 202s (200s) "
        "| non-2xx | socket errors/timeouts | rows stored | full/bare |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in [*(run for done in results for run in done.runs), *bare, *turns]:
        w = run.wrk
        ceiling = _ceiling(run, bare)
        ratio = (f"{run.per_s / ceiling.wrk.accepted_per_s:.2f}"
                 if not run.bare and ceiling and ceiling.wrk.accepted_per_s else "—")
        rows = "—" if run.rows is None else f"{run.rows} ({'ok' if run.durable else 'MISSING'})"
        lines.append(
            f"| {run.case} | {run.label} | {run.connections} | {run.per_s:.1f} | {w.p50_ms:.1f} | "
            f"{w.p95_ms:.1f} | {w.p99_ms:.1f} | {w.accepted} | {w.non_2xx} | "
            f"{w.socket_errors + w.timeouts} | {rows} | {ratio} |"
        )
    return lines


def verdicts(results: list[BackendRuns], bare: list[RunResult]) -> list[str]:
    lines = []
    for done in results:
        for run in done.runs:
            w = run.wrk
            ceiling = _ceiling(run, bare)
            ratio = w.accepted_per_s / ceiling.wrk.accepted_per_s if ceiling and ceiling.wrk.accepted_per_s else 0.0
            if run.case == "5 items":
                absolute = "meets" if w.accepted_per_s >= TARGET_RATE and w.p99_ms < TARGET_P99_MS else "MISSES"
                against = (f"{ratio:.2f} of the bare check (its target of {RETIRED_BARE_RATIO:.2f} retired by "
                           "issue 26 for the durable ceiling's, below); " if ceiling else "no bare check measured; ")
                lines.append(f"- {run.label}, 5 items: {against}{w.accepted_per_s:.0f}/s, p99 {w.p99_ms:.0f} ms — "
                             f"{absolute} the target (≥ {TARGET_RATE:,.0f}/s, p99 < {TARGET_P99_MS:.0f} ms)")
            elif run.case == "999 items":
                lines.append(_large_verdict(run, ceiling))
            elif run.floor:
                of_ceiling = (f"{run.per_s / ceiling.wrk.accepted_per_s:.2f}"
                              if ceiling and ceiling.wrk.accepted_per_s else "not measured")
                lines.append(f"- {run.label}, request floor: {run.per_s:.0f} answers/s ({w.statuses}), "
                             f"{of_ceiling} of the 5-item ceiling: the service's own request handling, before it "
                             "reads a body or a table")
            elif run.case == "50 items":
                lines.append(f"- {run.label}, 50 items: {ratio:.2f} of the ceiling for the same document "
                             "(no target of its own)")
            elif run.case == CARGO_TITLE:
                lines.append(_cargo_verdict(done, run))
            elif run.case in PROFILE_TITLES.values():
                # v1 naming the same cargo when it ran, else plain v1; pooled over every round
                v1_runs = ([r for r in done.runs if r.case == V1_SAME_CARGO_TITLE]
                           or [r for r in done.runs if r.case == "5 items"])
                base = _pooled_rate(v1_runs)
                share = _pooled_rate([r for r in done.runs if r.case == run.case]) / base if base else 0.0
                verdict = "meets" if share >= TARGET_PROFILE_RATIO else "MISSES"
                lines.append(f"- {run.label}, {run.case}: {w.accepted_per_s:.0f}/s; over all rounds {share:.2f} "
                             f"of {v1_runs[0].case} in the same run — {verdict} the target "
                             f"(≥ {TARGET_PROFILE_RATIO:.2f})"
                             if v1_runs else
                             f"- {run.label}, {run.case}: {w.accepted_per_s:.0f}/s (no v1 run to compare)")
            elif run.case == V1_SAME_CARGO_TITLE:
                lines.append(f"- {run.label}, {run.case}: {w.accepted_per_s:.0f}/s (the baseline of v2 and DEC-DMS)")
            if run.rows is not None:
                lines.append(_durability(run, run.case))
    return lines


def _durability(run: RunResult, name: str) -> str:
    """Whether every 202 of a full-service run (its warm-up's too) is stored."""
    expected = run.warmup_accepted + run.wrk.accepted
    return (f"  - durability ({name}): {run.rows} rows with this run's LRNs for {expected} 202s (warm-up "
            f"{run.warmup_accepted} + measured {run.wrk.accepted}): {'ok' if run.durable else 'ROWS MISSING'}")


def _large_verdict(run: RunResult, bare: RunResult | None) -> str:
    """Issue 26 item 3: p99 < 250 ms, "or, where the host is slower, within 5x of the bare parse
    + schema time of the same document in the same run", read as the same statistic at the same
    connections: the full service's p99 against the bare ceiling's p99 (its p50 ratio is shown too)."""
    w = run.wrk
    absolute = w.p99_ms < TARGET_999_P99_MS and w.accepted > 0
    line = (f"- {run.label}, 999 items: p50 {w.p50_ms:.0f} ms, p99 {w.p99_ms:.0f} ms over {w.requests} requests at "
            f"{run.connections} connections")
    if bare is None or not bare.wrk.p99_ms or not bare.wrk.p50_ms:
        return line + f" — {'meets' if absolute else 'MISSES'} the target (p99 < {TARGET_999_P99_MS:.0f} ms)"
    times = w.p99_ms / bare.wrk.p99_ms
    relative = times <= TARGET_999_TIMES_BARE and w.accepted > 0
    if absolute:
        verdict = "meets"
    elif relative:
        verdict = "meets, by the slower host's clause,"
    else:
        verdict = "MISSES"
    return (line + f"; the bare parse + schema check of the same document: p50 {bare.wrk.p50_ms:.0f} ms, p99 "
            f"{bare.wrk.p99_ms:.0f} ms, so p99 {times:.1f}x the bare's (p50 {w.p50_ms / bare.wrk.p50_ms:.1f}x) — "
            f"{verdict} the target (p99 < {TARGET_999_P99_MS:.0f} ms, or within {TARGET_999_TIMES_BARE:.0f}x of "
            "the bare check where the host is slower)")


def _pooled_rate(runs: list[RunResult]) -> float:
    """Accepted per second over all the runs of a case (every round of it)."""
    seconds = sum(run.wrk.duration_s for run in runs)
    return sum(run.wrk.accepted for run in runs) / seconds if seconds else 0.0


def _cargo_verdict(done: BackendRuns, run: RunResult) -> str:
    """Cargo against the 5-item v1 declaration of the same server: this round's two runs, and
    (with several rounds) all rounds pooled, which evens out other work on the machine."""
    w = run.wrk
    cargo_runs = [r for r in done.runs if r.case == CARGO_TITLE]
    five_runs = [r for r in done.runs if r.case == "5 items"]
    if not five_runs:
        return f"- {run.label}, {run.case}: {w.accepted_per_s:.0f}/s (no v1 run to compare)"
    index = next(n for n, r in enumerate(cargo_runs) if r is run)
    v1 = five_runs[min(index, len(five_runs) - 1)]
    share = w.accepted_per_s / v1.wrk.accepted_per_s if v1.wrk.accepted_per_s else 0.0
    line = (f"- {run.label}, {run.case}: {w.accepted_per_s:.0f}/s, p99 {w.p99_ms:.0f} ms; cargo/declaration "
            f"{share:.2f} of v1's 5 items ({v1.wrk.accepted_per_s:.0f}/s) in the same round")
    if len(cargo_runs) > 1 and index == len(cargo_runs) - 1:
        pooled_five = _pooled_rate(five_runs)
        pooled = _pooled_rate(cargo_runs) / pooled_five if pooled_five else 0.0
        verdict = "meets" if pooled >= TARGET_CARGO_RATIO else "MISSES"
        return (line + f"\n- {run.label}, all {len(cargo_runs)} rounds pooled: cargo {_pooled_rate(cargo_runs):.0f}/s, "
                f"5-item declarations {pooled_five:.0f}/s, cargo/declaration **{pooled:.2f}** — {verdict} issue 21's "
                f"target (≥ {TARGET_CARGO_RATIO:.2f})")
    if len(cargo_runs) == 1:
        verdict = "meets" if share >= TARGET_CARGO_RATIO else "MISSES"
        line += f" — {verdict} issue 21's target (≥ {TARGET_CARGO_RATIO:.2f})"
    return line


def memory(results: list[BackendRuns]) -> list[str]:
    lines = []
    for done in results:
        if done.after_startup is None or done.after_cases is None:
            continue
        lines.append(f"- {done.backend}: after start-up (idle) {done.after_startup.describe()}; "
                     f"after the cases {done.after_cases.describe()}")
        soak = done.soak
        if soak is None:
            continue
        share = soak.growth_mib / soak.start.total_mib if soak.start.total_mib else 0.0
        verdict = ("flat" if soak.flat else "NOT FLAT") + f" (growth limit {RSS_FLAT_GROWTH:.0%})"
        if not soak.same_workers:
            verdict = "NOT COMPARABLE: a worker was replaced during the soak"
        lines.append(f"  - soak, {soak.seconds} s of 5-item declarations "
                     f"({soak.run.wrk.accepted} accepted, {soak.run.wrk.accepted_per_s:.1f}/s): "
                     f"RSS at the start **{soak.start.total_mib:.1f} MiB**, at the end "
                     f"**{soak.end.total_mib:.1f} MiB** ({soak.growth_mib:+.1f} MiB, {share:+.1%}), "
                     f"peak {soak.peak_mib:.1f} MiB — {verdict}")
        lines.append("  - per worker, start → end (MiB): " + ", ".join(
            f"{soak.start.kib[pid] / 1024:.1f} → "
            + (f"{soak.end.kib[pid] / 1024:.1f}" if pid in soak.end.kib else "gone")
            for pid in sorted(soak.start.kib)))
    return lines


def header(machine: Machine, args: argparse.Namespace, cases: list[Case], status: bool) -> list[str]:
    lines = [
        f"- machine: {machine.cpus} CPUs, {machine.cpu_model}; Python {machine.python}; "
        f"temp files on {machine.temp_fs}; load average before the run {machine.load_average} "
        "(other work on the machine skews the figures)",
        f"- date: {machine.date}",
        f"- revision: {machine.revision}",
        f"- load: wrk, {args.threads} thread(s), {args.duration} s measured after {args.warmup} s warm-up "
        "per case, unique LRN per request (`bench/wrk_post.lua`)",
    ]
    for case in cases:
        purpose = "latency" if case.latency_only else "throughput"
        lines.append(f"  - {case.title}: {case.source}, {case.connections} connections ({purpose})")
    if status:
        lines.append(f"  - status look-ups: `GET {ENDPOINT}/{{id}}` (XML, with history) of up to {STATUS_IDS:,} "
                     f"ids picked at random from the first case's declarations, one at random per request "
                     f"(`bench/wrk_get.lua`), {args.connections} connections")
    if args.soak_seconds:
        lines.append(f"  - soak: {args.soak_seconds} s of 5-item declarations at {args.connections} connections "
                     f"on {args.soak_backend if args.soak_backend != 'both' else 'each backend'}, after the "
                     "cases; VmRSS of each gunicorn worker (`/proc/<pid>/status`) at its start and end")
    lines.append(f"- server: gunicorn, {args.workers} workers as `csw serve` runs them ({SERVE_WORKER}, "
                 f"{SERVE_THREADS} application threads each), log level WARNING, no access log, "
                 f"API rate limit raised to {BENCH_RATE_LIMIT} (one client sends everything; the limiter "
                 "still runs), on the same machine as wrk")
    return lines


def write_results(lines: list[str]) -> None:
    write_section("intake", (
        "## Declaration intake (`bench/intake.py`)\n\n"
        "Targets: the full intake of a 5-item declaration reaches "
        f"{TARGET_RATE:,.0f}/s with p99 < {TARGET_P99_MS:.0f} ms (its share of the bare ceiling, parse with "
        "`parse_untrusted` + libxml2 schema check in `bench/bare_app.py`, is shown; issue 26 retired its "
        f"target of {RETIRED_BARE_RATIO:.0%}); a 999-item declaration is answered "
        f"in p99 < {TARGET_999_P99_MS:.0f} ms (issue 26: or, where the host is slower, within "
        f"{TARGET_999_TIMES_BARE:.0f}x of the bare check of the same document); the workers' resident memory "
        "stays flat under sustained load. "
        f"Issue 26: the full 5-item intake reaches at least {TARGET_DURABLE_RATIO:.0%} of the durable ceiling "
        "of the same backend (parse + schema check + one committed insert of the document, "
        f"`bench/durable_app.py`) with p99 < {TARGET_DURABLE_P99_MS:.0f} ms, the two served at once and "
        "measured in alternated turns, pooled.\n\n"
        + "\n".join(lines) + "\n"
    ))


# --- main --------------------------------------------------------------------------------

def parse_cases(raw: str) -> list[str]:
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = [name for name in names if name not in ALL_CASES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"cases are a comma-separated list of {', '.join(ALL_CASES)}; "
                                         f"got {raw!r}")
    return [name for name in ALL_CASES if name in names]  # the fixed order


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=parse_cases, default=list(ALL_CASES),
                        help=f"comma-separated, from {','.join(ALL_CASES)} (default: all)")
    parser.add_argument("--items", choices=list(POST_CASES), action="append",
                        help="shorthand for one POST case (repeatable); replaces --cases")
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=16,
                        help="concurrent wrk connections (5 and 50 items, status look-ups, soak)")
    parser.add_argument("--latency-connections", type=int, default=2,
                        help="concurrent wrk connections for the 999-item case (latency)")
    parser.add_argument("--threads", type=int, default=1,
                        help="wrk threads (1 leaves the most CPU to the server)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn workers (default one per CPU, as `csw serve` on 2 cores: the "
                             "pipeline is CPU-bound, and with more workers than cores the one holding "
                             "SQLite's write gate is preempted while the others queue behind it)")
    parser.add_argument("--soak-seconds", type=int, default=0,
                        help="after the cases, post 5-item declarations this long and print the "
                             "workers' RSS at its start and end (default 0: no soak)")
    parser.add_argument("--soak-backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="the backend(s) to soak (default both)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("CSW_BENCH_POSTGRES_URL",
                                                                 DEFAULT_POSTGRES_URL),
                        help="scratch PostgreSQL database; its schema public is dropped")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the POST cases this many times in turn on the same server (cargo is then "
                             "also set against the 5-item declaration over all rounds pooled)")
    parser.add_argument("--pairs", type=int, default=3,
                        help="turns of the 5-item case on the full service and on the durable ceiling, served "
                             "at once and measured alternately (issue 26's ratio, all turns pooled)")
    parser.add_argument("--no-ceilings", action="store_true",
                        help="skip the bare and durable ceilings (the full service's cases only, e.g. to set "
                             "the cargo case against the 5-item declaration)")
    parser.add_argument("--write-results", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)
    if args.items:
        args.cases = [name for name in ALL_CASES if name in args.items]
    for name in ("duration", "warmup", "connections", "latency_connections", "threads", "workers", "rounds", "pairs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.soak_seconds < 0:
        parser.error("--soak-seconds cannot be negative")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    if "floor" in args.cases and "5" not in args.cases:
        parser.error("the floor is set against the 5-item bare ceiling; add the case 5")
    if "status" in args.cases and not any(name in POST_CASES for name in args.cases):
        parser.error("the status case looks up declarations a POST case (5, 50 or 999) stored; add one")
    return args


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so ``finally`` blocks stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        wrk = require_wrk()
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        soaked = {"sqlite", "postgresql"} if args.soak_backend == "both" else {args.soak_backend}
        if args.soak_seconds and not soaked & set(backends):
            raise BenchError(f"--soak-backend {args.soak_backend} is not among the backends run")
        status = "status" in args.cases
        floor = "floor" in args.cases
        names = [name for name in args.cases if name in POST_CASES]
        if args.soak_seconds and "5" not in names:
            names.append("5")  # the soak posts 5-item declarations (no 5-item case row without "5")
        with tempfile.TemporaryDirectory(prefix="csw-bench-") as temp:
            work_dir = Path(temp)
            all_cases = []
            if "cargo" in args.cases:
                body, source = cargo_body()
                body_file = work_dir / "cargo.xml"
                body_file.write_bytes(body)
                all_cases.append(Case("cargo", 0, body_file, source, args.connections, CARGO_ENDPOINT,
                                      "cargo_records"))
            for name in names:
                count = POST_CASES[name]
                body, source = declaration_body(count, name if name in PROFILE_SAMPLES or name == "v1bl" else "v1")
                body_file = work_dir / f"declaration-{name}.xml"
                body_file.write_bytes(body)
                all_cases.append(Case(name, count, body_file, source,
                                      args.latency_connections if count == 999 else args.connections))
            cases = sorted((case for case in all_cases if case.name in args.cases),
                           key=lambda case: ALL_CASES.index(case.name))
            machine = Machine.describe()
            intro = header(machine, args, cases, status)
            print("\n".join(intro), flush=True)
            load = Load(wrk, args.duration, args.warmup, args.threads)
            soak_case = next((case for case in all_cases if case.name == "5"), None)
            results = [bench_full(backend, cases, status, floor, args.soak_seconds if backend in soaked else 0,
                                  soak_case, load, args.connections, args.workers, work_dir, args.postgres_url,
                                  args.rounds)
                       for backend in backends]
            five = next((case for case in cases if case.items == 5), None)
            paired = [bench_paired(backend, five, load, args.workers, work_dir, args.postgres_url, args.pairs)
                      for backend in backends] if five is not None and not args.no_ceilings else []
            bare = [] if args.no_ceilings else bench_bare(cases, load, args.workers, work_dir)
    except BenchError as exc:
        print(f"bench/intake.py: {exc}", file=sys.stderr)
        return 2

    turns = [run for pair in paired for run in (*pair.full, *pair.ceiling)]
    report = [*intro, "", *table(results, bare, turns), "", *verdicts(results, bare), *durable_verdicts(paired)]
    memory_lines = memory(results)
    if memory_lines:
        report += ["", "Memory: resident set (VmRSS) of the gunicorn workers, summed:", "", *memory_lines]
    for run in [*(run for done in results for run in done.runs), *bare, *turns]:
        if run.wrk.first_error and not run.floor:  # the floor's 400s are its purpose
            report.append(f"- {run.label}, {run.case}: first non-2xx answer: {run.wrk.first_error}")
    print("\n" + "\n".join(report[len(intro) + 1:]))
    if args.write_results:
        write_results(report)
        print(f"\nwrote {RESULTS.relative_to(PROJECT_ROOT)}")
    runs = [*(run for done in results for run in done.runs), *bare, *turns]
    failed = any(run.failed for run in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
