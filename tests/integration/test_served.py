"""`csw serve` runs the real thing: gunicorn workers on a port, against a migrated SQLite."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import declaration_xml

CSW = str(Path(sys.executable).with_name("csw"))
DEMO_KEY = "csw_demo_trading_0000000000000000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    instance = tmp_path_factory.mktemp("served")
    env = {**os.environ, "CSW_INSTANCE_DIR": str(instance), "CSW_DATABASE_URL": f"sqlite:///{instance / 'csw.db'}"}
    subprocess.run([CSW, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([CSW, "seed"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([CSW, "serve", "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("csw serve did not come up")
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def post(url: str, body: bytes) -> tuple[int, dict[str, object], dict[str, str]]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Bearer {DEMO_KEY}", "Content-Type": "application/xml", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def test_served_intake_accepts_and_rejects(server: str) -> None:
    status, body, headers = post(f"{server}/api/v1/declarations", declaration_xml(lrn="LRN-SERVED-1"))
    assert status == 202 and body["status"] == "accepted"
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
    line = next(l for l in text.splitlines() if l.startswith('csw_declarations_total{outcome="accepted"}'))
    assert float(line.split()[-1]) >= 6
