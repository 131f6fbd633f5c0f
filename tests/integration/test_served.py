"""`csw serve` runs the real thing: gunicorn workers on a port, against a migrated SQLite."""
from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest
import requests
from urllib3 import encode_multipart_formdata

from tests.factories import declaration_xml, undrawn
from tests.served import DEMO_KEY, prepared_env, start, stop, worker_pids

TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """``csw serve`` with two workers: its gunicorn master's pid and its base URL."""
    process, base = start(prepared_env(tmp_path_factory.mktemp("served")))
    try:
        yield process.pid, base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def server(served: tuple[int, str]) -> str:
    return served[1]


def post(url: str, body: bytes) -> tuple[int, dict[str, object], Message]:
    """Status, JSON answer and headers (looked up regardless of case, as HTTP names them)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {DEMO_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def test_served_intake_accepts_and_rejects(server: str) -> None:
    status, body, headers = post(f"{server}/api/v1/declarations", undrawn("LRN-SERVED-1")[1])
    assert status == 202 and body["status"] == "released" and body["risk"]["lane"] == "green"  # type: ignore[index]
    assert headers["X-Conversation-ID"]
    status, body, _ = post(f"{server}/api/v1/declarations", declaration_xml(lrn="LRN-SERVED-2", hs_code="1"))
    assert status == 422 and body["code"] == "SCHEMA_INVALID"


def test_served_oversized_body_is_answered_413_before_it_is_read(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/declarations HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
            + f"Authorization: Bearer {DEMO_KEY}\r\nContent-Length: {20 * 1024 * 1024}\r\n\r\n".encode()
            + b"<Declaration>"
        )
        answer = b""
        while b"BODY_TOO_LARGE" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"BODY_TOO_LARGE" in answer


def test_served_metrics_add_up_across_workers(server: str) -> None:
    for n in range(6):
        post(f"{server}/api/v1/declarations", declaration_xml(lrn=f"LRN-MW-{n}"))
    text = urllib.request.urlopen(f"{server}/metrics", timeout=5).read().decode()
    line = next(row for row in text.splitlines() if row.startswith('csw_declarations_total{outcome="accepted"}'))
    assert float(line.split()[-1]) >= 6


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_served_portal_upload_arrives_whole_whatever_its_framing(server: str, framing: str) -> None:
    """A browser's multipart upload goes through the server's whole-body reading to the
    portal's form parser intact, sent with a Content-Length or chunked."""
    browser = requests.Session()
    page = browser.get(f"{server}/login", timeout=5).text
    signed_in = browser.post(f"{server}/login", allow_redirects=False, timeout=5, data={
        "username": "trader", "password": "trader-demo-pass", "csrf_token": TOKEN.search(page).group(1)})  # type: ignore[union-attr]
    assert signed_in.status_code == 302
    token = TOKEN.search(browser.get(f"{server}/trader/upload", timeout=5).text).group(1)  # type: ignore[union-attr]
    body, content_type = encode_multipart_formdata({
        "csrf_token": token, "document": ("upload.xml", declaration_xml(lrn=f"LRN-UPLOAD-{framing}"), "text/xml")})
    data: bytes | Iterator[bytes] = body if framing == "content-length" else iter([body[:100], body[100:]])
    answer = browser.post(f"{server}/trader/upload", data=data, headers={"Content-Type": content_type},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    assert answer.headers["Location"].startswith("/trader/declarations/HK")


def _connections_held(pids: set[int], port: int) -> dict[int, int]:
    """How many established TCP connections to ``port`` each of ``pids`` holds (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(fields[9])
    held: dict[int, int] = {}
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] = held.get(pid, 0) + 1
    return held


def _every_worker_accepting(master: int, host: str, port: int, deadline_s: float = 60) -> None:
    """Wait until each worker has answered a connection of its own. ``csw serve`` answers once
    one worker has loaded the application; on a slow host the other may still be loading it,
    and would take no connection however they were shared."""
    workers, seen, opened = worker_pids(master), set[int](), []
    deadline = time.monotonic() + deadline_s
    try:
        while seen != workers and time.monotonic() < deadline:
            connection = socket.create_connection((host, port), timeout=5)
            opened.append(connection)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
            seen |= set(_connections_held(workers, port))
            if len(opened) >= 32:
                for each in opened:
                    each.close()
                opened.clear()
                time.sleep(0.2)
    finally:
        for each in opened:
            each.close()
    assert seen == workers, f"workers {sorted(workers - seen)} took no connection within {deadline_s:g} s"


def test_connections_opened_together_are_shared_by_the_workers(served: tuple[int, str]) -> None:
    """A client that opens its keep-alive connections at once (a logistics system's pool) has
    them spread over the workers: had the first worker to wake taken them all, one core would
    serve everything while the other idled."""
    master, base = served
    host, port = base.removeprefix("http://").split(":")
    _every_worker_accepting(master, host, int(port))
    connections = [socket.create_connection((host, int(port)), timeout=5) for _ in range(16)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for connection in connections:
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        held = _connections_held(worker_pids(master), int(port))
    finally:
        for connection in connections:
            connection.close()
    assert sum(held.values()) == 16 and len(held) == 2, held
    assert min(held.values()) >= 4, held


def test_each_worker_runs_on_a_core_of_its_own(served: tuple[int, str]) -> None:
    """Every thread of a worker runs on that worker's one core, and the two workers on two cores:
    a worker's threads hand its interpreter lock over on its own core instead of waiting to run
    on the other while their own core idles (``app.serving.cores``)."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: nothing to choose")
    master, _ = served
    cores = []
    for pid in worker_pids(master):
        threads = {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}
        assert len(threads) == 1, threads
        (core,) = threads
        assert len(core) == 1, core
        cores.append(core)
    assert len(cores) == 2 and len(set(cores)) == 2, cores
