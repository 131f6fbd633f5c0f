"""Declaration metrics (prometheus-client): how many concurrent posts each commit carried."""
from __future__ import annotations

from prometheus_client import Histogram

GROUP_SIZE = Histogram("csw_lodging_group_size", "New declarations of concurrent single posts stored by one commit",
                       buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64))
