"""Routing metrics (prometheus-client): delivered, failed, backlog, delivery latency."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter("csw_routing_deliveries_total", "Outbox delivery attempts by transport and outcome",
                     ["transport", "outcome"])
DEAD_LETTERS = Counter("csw_routing_dead_letters_total", "Messages moved to the dead letters")
LATENCY = Histogram("csw_routing_delivery_latency_seconds", "From outbox write to confirmed delivery",
                    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
BACKLOG = Gauge("csw_routing_backlog", "Messages waiting for delivery, by subscriber", ["subscriber"],
                multiprocess_mode="mostrecent")
