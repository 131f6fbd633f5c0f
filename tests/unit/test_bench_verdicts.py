"""The intake benchmark's verdicts (``bench/intake.py``): latency pooled over runs measured in
turns, and issue 26's 999-item clause for a slower host. A wrong statistic here would pass or
fail a target the figures do not support."""
from __future__ import annotations

import pytest

from bench import intake
from bench.intake import BenchError, RunResult, WrkResult, _large_verdict, pooled_percentile


def _wrk(requests: int, quantiles: tuple[float, ...], p50: float = 0.0, p99: float = 0.0) -> WrkResult:
    return WrkResult(requests=requests, duration_s=10.0, accepted=requests, other_2xx=0, non_2xx=0,
                     socket_errors=0, timeouts=0, accepted_per_s=requests / 10, p50_ms=p50, p95_ms=p99,
                     p99_ms=p99, statuses=f"202:{requests}", first_error=None, quantiles_ms=quantiles)


def _flat(requests: int, latency_ms: float) -> WrkResult:
    """A run whose every request took ``latency_ms``."""
    return _wrk(requests, (latency_ms,) * 1000, latency_ms, latency_ms)


def test_wrk_output_gives_the_latency_at_every_tenth_of_a_percent() -> None:
    quantiles = ",".join(f"{n / 10:.2f}" for n in range(1, 1001))
    output = ("WRK_RESULT requests=20 duration_s=1.000 accepted=20 other_2xx=0 non_2xx=0 socket_errors=0 timeouts=0 "
              "rps=20.0 accepted_per_s=20.0 p50_ms=50.00 p95_ms=95.00 p99_ms=99.00 max_ms=100.00 mean_ms=50.00 "
              f"statuses=202:20\nWRK_QUANTILES_MS {quantiles}\n")

    parsed = WrkResult.parse(output)

    assert len(parsed.quantiles_ms) == 1000
    assert parsed.quantiles_ms[0] == 0.1 and parsed.quantiles_ms[-1] == 100.0


def test_pooled_percentiles_weigh_each_run_by_the_requests_it_answered() -> None:
    quick, slow = _flat(3000, 10.0), _flat(1000, 100.0)  # three quarters of the requests at 10 ms

    assert pooled_percentile([quick, slow], 75) == 10.0
    assert pooled_percentile([quick, slow], 76) == 100.0
    assert pooled_percentile([quick, slow], 99) == 100.0


def test_a_pooled_p99_is_not_the_mean_of_the_runs_p99() -> None:
    """Equal runs, one with its slowest 3 % at 300 ms: 1.5 % of all requests took 300 ms, so the
    pooled p99 is 300 ms (not the 170 ms between the runs' own), and the pooled p98 40 ms."""
    calm = _flat(1000, 40.0)
    spiky = _wrk(1000, (40.0,) * 970 + (300.0,) * 30, 40.0, 300.0)

    assert pooled_percentile([calm, spiky], 99) == 300.0
    assert pooled_percentile([calm, spiky], 98) == 40.0


def test_runs_without_their_latencies_cannot_be_pooled() -> None:
    with pytest.raises(BenchError):
        pooled_percentile([_wrk(100, ())], 99)


def _run(wrk: WrkResult, label: str = "full (sqlite)") -> RunResult:
    return RunResult(label, "999 items", 2, wrk)


@pytest.mark.parametrize(("full_p99", "bare_p99", "verdict"), [
    (240.0, 30.0, "— meets the target"),  # under 250 ms, whatever the bare check
    (280.0, 57.0, "— meets, by the slower host's clause, the target"),  # 4.9x the bare check's p99
    (291.0, 57.0, "— MISSES the target"),  # over 250 ms and 5.1x
])
def test_a_999_item_declaration_meets_its_target_in_time_or_within_5x_of_the_bare_check(
        full_p99: float, bare_p99: float, verdict: str) -> None:
    full = _run(_wrk(50, (), 200.0, full_p99))
    bare = _run(_wrk(500, (), 37.0, bare_p99), "bare ceiling (parse + schema)")

    line = _large_verdict(full, bare)

    assert verdict in line
    assert f"p99 {bare_p99:.0f} ms" in line


def test_a_turns_cpu_is_given_per_declaration_for_the_workers_and_the_whole_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 26's ratio is set by CPU per declaration and by how much of the machine stood idle;
    a turn reports both. Two cores for 10 s are 2,000 ticks at 100 a second."""
    ticks = iter([(10_000, 4_000), (12_000, 4_200)])  # 200 of the turn's 2,000 ticks idle
    workers_s = iter([50.0, 62.0])  # the workers used 12 s of CPU
    monkeypatch.setattr(intake, "machine_ticks", lambda: next(ticks))
    monkeypatch.setattr(intake, "cpu_seconds", lambda pids: next(workers_s))
    monkeypatch.setattr(intake, "worker_pids", lambda master: [101, 102])
    monkeypatch.setattr(intake.os, "sysconf", lambda name: 100)

    used = intake.CpuMark.now(master=1).since(answered=4_000)

    assert used is not None
    assert (used.workers_ms, used.machine_ms, used.idle) == (3.0, 4.5, 0.1)
    assert used.describe() == "CPU a declaration: workers 3.00 ms, machine 4.50 ms; 10 % idle"


def test_a_turn_that_answered_nothing_reports_no_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "machine_ticks", lambda: (1_000, 500))
    monkeypatch.setattr(intake, "cpu_seconds", lambda pids: 1.0)
    monkeypatch.setattr(intake, "worker_pids", lambda master: [])

    assert intake.CpuMark.now(master=1).since(answered=0) is None
