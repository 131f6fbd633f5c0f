"""Prometheus metrics. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``csw serve``)
makes every worker's figures add up in ``/metrics``."""
from __future__ import annotations

import os

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


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
