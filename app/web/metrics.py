"""Prometheus metrics. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``csw serve``)
makes every worker's figures add up in ``/metrics``.

Every label takes values from a bounded set, whatever clients send: each new label value is
a new series kept for the life of the process (and a file per worker under gunicorn), so a
label copied from the request (an invented method name, a path) would let anyone grow
``/metrics`` and the server's memory without bound. Routes are the URL map's rules (or
``unmatched``), methods the standard ones (or ``other``), statuses the codes the app answers.

``/metrics`` answers loopback addresses only unless ``CSW_METRICS_TOKEN`` is set; then it
needs ``Authorization: Bearer <token>`` from everywhere.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Any

from flask import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("csw_http_requests_total", "HTTP requests", ["route", "method", "status"])
LATENCY = Histogram(
    "csw_http_request_duration_seconds", "HTTP request latency", ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
DECLARATION_OUTCOMES = Counter("csw_declarations_total", "Declarations by outcome", ["outcome"])

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def method_label(method: str) -> str:
    """The request's method for a label: a standard one, else ``other``."""
    return method if method in METHODS else "other"


def count_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count an answered request and its latency. Each (route, method, status)'s series are
    looked up once per process (``labels`` checks and locks on every call); the keys are as
    bounded as the labels are, so the lookup table is too."""
    labels = (route, method_label(method), status)
    series = _SERIES.get(labels)
    if series is None:
        series = _SERIES.setdefault(labels, (REQUESTS.labels(route, labels[1], str(status)), LATENCY.labels(route)))
    series[0].inc()
    series[1].observe(seconds)


def may_scrape(token: str | None, authorization: str, remote_addr: str | None) -> bool:
    """Whether this request may read ``/metrics``: with a token configured, only a request
    bearing it (compared in constant time); without one, only a loopback address (as seen
    after ProxyFix, so a request relayed by a trusted proxy counts as its client's)."""
    if token:
        scheme, _, given = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    try:
        return remote_addr is not None and ipaddress.ip_address(remote_addr).is_loopback
    except ValueError:
        return False


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
