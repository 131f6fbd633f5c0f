"""Benchmark declaration intake: the full service against a bare parse + schema-check ceiling.

Why: the target is "the full intake reaches at least half of the bare ceiling" (5-item
declaration, 16 concurrent clients). This measures both under the same conditions in
one run: gunicorn with production-like settings, wrk as a separate load generator, a
unique LRN per request (so every 202 is a real insert, not an idempotent replay), a
fresh database per backend, and afterwards a durability sanity check (rows stored >=
202s reported).

    .venv/bin/python -m bench.intake [--duration 15] [--connections 16] [--workers N]
                                     [--backend sqlite|postgresql|both] [--write-results]
"""
from __future__ import annotations

import argparse
import os
import platform
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

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
SAMPLE = PROJECT_ROOT / "samples" / "valid" / "import-5-items.xml"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://127.0.0.1:5432/test"
API_KEY = "csw_demo_trading_0000000000000000"
ENDPOINT = "/api/v1/declarations"
TARGET_RATIO = 0.5

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

    @classmethod
    def parse(cls, output: str) -> WrkResult:
        line = next((ln for ln in output.splitlines() if ln.startswith("WRK_RESULT ")), None)
        if line is None:
            raise BenchError(f"wrk printed no WRK_RESULT line; its output was:\n{output}")
        fields = dict(token.split("=", 1) for token in line.split()[1:])
        first_error = next((ln.removeprefix("WRK_FIRST_ERROR ") for ln in output.splitlines()
                            if ln.startswith("WRK_FIRST_ERROR ")), None)
        return cls(
            requests=int(fields["requests"]), duration_s=float(fields["duration_s"]),
            accepted=int(fields["accepted"]), other_2xx=int(fields["other_2xx"]),
            non_2xx=int(fields["non_2xx"]), socket_errors=int(fields["socket_errors"]),
            timeouts=int(fields["timeouts"]), accepted_per_s=float(fields["accepted_per_s"]),
            p50_ms=float(fields["p50_ms"]), p95_ms=float(fields["p95_ms"]),
            p99_ms=float(fields["p99_ms"]), statuses=fields["statuses"], first_error=first_error,
        )


@dataclass(frozen=True)
class RunResult:
    """One measured configuration: the full service on a backend, or the bare ceiling."""

    label: str
    wrk: WrkResult
    warmup_accepted: int = 0
    rows: int | None = None  # rows in ``declarations`` afterwards (full service only)

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


def declaration_body() -> bytes:
    """The 5-item sample declaration (or the test factory's), checked valid before use."""
    if SAMPLE.exists():
        body = SAMPLE.read_bytes()
    else:
        sys.path.insert(0, str(PROJECT_ROOT))
        from tests.factories import declaration_xml

        body = declaration_xml(lrn="BENCH-LRN", items=5)
    try:
        Intake(PROJECT_ROOT / "schemas").receive_declaration(body)
    except Rejection as rejection:
        raise BenchError(f"the body template is not a valid declaration: {rejection.message}") from None
    if body.count(b"<FunctionalReferenceID>") != 1:
        raise BenchError("the body template needs exactly one <FunctionalReferenceID>")
    return body


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- databases -------------------------------------------------------------------------

def _engine(url: str) -> Engine:
    url = normalise_url(url)
    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {"timeout": 30}
    return create_engine(url, connect_args=connect_args)


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


def count_declarations(url: str) -> int:
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM declarations")).scalar_one())
    finally:
        engine.dispose()


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

@contextmanager
def gunicorn(app_spec: str, workers: int, env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Serve ``app_spec`` on a free port; yields the base URL; always stops the server."""
    port = free_port()
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "sync", "--log-level", "warning", "--timeout", "30",
            "--graceful-timeout", "5", "--chdir", str(PROJECT_ROOT), app_spec]
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process, log_path)
        yield base
    finally:
        stop(process)


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
        try:
            os.killpg(process.pid, signal.SIGKILL)  # our own session: master and its workers
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- load ------------------------------------------------------------------------------

def run_wrk(wrk: str, base: str, body_file: Path, seconds: int, connections: int, threads: int,
            tag: str) -> WrkResult:
    args = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-s", str(LUA_SCRIPT), base + ENDPOINT, "--", str(body_file), tag, API_KEY]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + WRK_GRACE_S)
    except subprocess.TimeoutExpired:
        raise BenchError(f"wrk did not finish within {seconds + WRK_GRACE_S:.0f}s") from None
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return WrkResult.parse(done.stdout)


@dataclass(frozen=True)
class Load:
    wrk: str
    body_file: Path
    duration: int
    warmup: int
    connections: int
    threads: int

    def measure(self, base: str, label: str) -> tuple[int, WrkResult]:
        """Warm up (imports, connection pools, page cache), then measure; LRNs never repeat."""
        run_id = secrets.token_hex(3)
        warm = run_wrk(self.wrk, base, self.body_file, self.warmup, self.connections,
                       self.threads, f"W{run_id}")
        print(f"  [{label}] warm-up: {warm.accepted} accepted, {warm.non_2xx} non-2xx", flush=True)
        result = run_wrk(self.wrk, base, self.body_file, self.duration, self.connections,
                         self.threads, f"M{run_id}")
        return warm.accepted, result


def bench_full(backend: str, load: Load, workers: int, work_dir: Path, postgres_url: str) -> RunResult:
    instance = work_dir / backend
    instance.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{instance / 'csw.db'}"
    else:
        url = postgres_url
        reset_postgres(url)
    env = service_env(url, instance)
    print(f"[{backend}] migrating and seeding a fresh database", flush=True)
    migrate_and_seed(env)
    with gunicorn("app.wsgi:app", workers, env, instance / "gunicorn.log") as base:
        print(f"[{backend}] gunicorn app.wsgi:app, {workers} workers at {base}", flush=True)
        warm_accepted, result = load.measure(base, backend)
    rows = count_declarations(url)
    return RunResult(f"full ({backend})", result, warm_accepted, rows)


def bench_bare(load: Load, workers: int, work_dir: Path) -> RunResult:
    instance = work_dir / "bare"
    instance.mkdir()
    env = service_env("sqlite://", instance)  # the bare app opens no database
    with gunicorn("bench.bare_app:app", workers, env, instance / "gunicorn.log") as base:
        print(f"[bare] gunicorn bench.bare_app:app, {workers} workers at {base}", flush=True)
        warm_accepted, result = load.measure(base, "bare")
    return RunResult("bare ceiling (parse + schema)", result, warm_accepted)


# --- report ------------------------------------------------------------------------------

def table(results: list[RunResult], bare: RunResult) -> list[str]:
    ceiling = bare.wrk.accepted_per_s
    lines = [
        "| configuration | accepted/s | p50 ms | p95 ms | p99 ms | 202s | non-2xx | socket errors/timeouts "
        "| rows stored | full/bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in [*results, bare]:
        w = run.wrk
        ratio = f"{w.accepted_per_s / ceiling:.2f}" if run is not bare and ceiling else "—"
        rows = "—" if run.rows is None else (
            f"{run.rows} ({'ok' if run.durable else 'MISSING'})")
        lines.append(
            f"| {run.label} | {w.accepted_per_s:.1f} | {w.p50_ms:.1f} | {w.p95_ms:.1f} | "
            f"{w.p99_ms:.1f} | {w.accepted} | {w.non_2xx} | {w.socket_errors + w.timeouts} | "
            f"{rows} | {ratio} |"
        )
    return lines


def verdicts(results: list[RunResult], bare: RunResult) -> list[str]:
    lines = []
    for run in results:
        ratio = run.wrk.accepted_per_s / bare.wrk.accepted_per_s if bare.wrk.accepted_per_s else 0.0
        verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
        lines.append(f"- {run.label}: {ratio:.2f} of the ceiling — {verdict} the target "
                     f"(≥ {TARGET_RATIO:.2f})")
        if run.rows is not None:
            expected = run.warmup_accepted + run.wrk.accepted
            lines.append(f"  - durability: {run.rows} rows in `declarations` for {expected} 202s "
                         f"(warm-up {run.warmup_accepted} + measured {run.wrk.accepted}): "
                         f"{'ok' if run.durable else 'ROWS MISSING'}")
    return lines


def header(machine: Machine, args: argparse.Namespace, workers: int) -> list[str]:
    return [
        f"- machine: {machine.cpus} CPUs, {machine.cpu_model}; Python {machine.python}; "
        f"temp files on {machine.temp_fs}; load average before the run {machine.load_average} "
        "(other work on the machine skews the figures)",
        f"- date: {machine.date}",
        f"- revision: {machine.revision}",
        f"- load: wrk, {args.connections} connections, {args.threads} thread(s), "
        f"{args.duration} s measured after {args.warmup} s warm-up, 5-item declaration "
        f"({SAMPLE.relative_to(PROJECT_ROOT) if SAMPLE.exists() else 'tests.factories'}), "
        "unique LRN per request",
        f"- server: gunicorn, {workers} sync workers, log level WARNING, no access log, "
        "on the same machine as wrk",
    ]


def write_results(lines: list[str]) -> None:
    write_section("intake", (
        "## Declaration intake (`bench/intake.py`)\n\n"
        f"Target: the full intake reaches at least {TARGET_RATIO:.0%} of the bare ceiling "
        "(parse with `parse_untrusted` + libxml2 schema check, `bench/bare_app.py`).\n\n"
        + "\n".join(lines) + "\n"
    ))


# --- main --------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=1,
                        help="wrk threads (1 leaves the most CPU to the server)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1),
                        help="gunicorn sync workers (default 2 x CPUs)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("CSW_BENCH_POSTGRES_URL",
                                                                 DEFAULT_POSTGRES_URL),
                        help="scratch PostgreSQL database; its schema public is dropped")
    parser.add_argument("--write-results", action="store_true", help=f"write {RESULTS.name}")
    args = parser.parse_args(argv)
    for name in ("duration", "warmup", "connections", "threads", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    return args


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so ``finally`` blocks stop the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        wrk = require_wrk()
        body = declaration_body()
        machine = Machine.describe()
        intro = header(machine, args, args.workers)
        print("\n".join(intro), flush=True)
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        with tempfile.TemporaryDirectory(prefix="csw-bench-") as temp:
            work_dir = Path(temp)
            body_file = work_dir / "declaration.xml"
            body_file.write_bytes(body)
            load = Load(wrk, body_file, args.duration, args.warmup, args.connections, args.threads)
            results = [bench_full(b, load, args.workers, work_dir, args.postgres_url) for b in backends]
            bare = bench_bare(load, args.workers, work_dir)
    except BenchError as exc:
        print(f"bench/intake.py: {exc}", file=sys.stderr)
        return 2

    report = [*intro, "", *table(results, bare), "", *verdicts(results, bare)]
    for run in [*results, bare]:
        if run.wrk.first_error:
            report.append(f"- {run.label}: first non-2xx answer: {run.wrk.first_error}")
    print("\n" + "\n".join(report[len(intro) + 1:]))
    if args.write_results:
        write_results(report)
        print(f"\nwrote {RESULTS.relative_to(PROJECT_ROOT)}")
    failed = any(run.durable is False or run.wrk.accepted == 0 for run in [*results, bare])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
