"""Prometheus metrics the studio records as it works (served by core's /metrics).

Two kinds:

- `REQUEST_LATENCY`, a prometheus-client histogram observed by the web process
  for each request. With several gunicorn workers it is kept in files under
  PROMETHEUS_MULTIPROC_DIR (the library's multiprocess mode), so a scrape sees
  all of them.
- Durations observed by workers (a build, its smoke step), which may run on
  other machines than the web process that serves /metrics: kept as
  histograms in Redis (`observe`), one hash per metric, summed by every
  worker, read at scrape time (`redis_histograms`). Redis losing them (a
  restart) reads as a counter reset, which Prometheus expects.

Recording never raises: a metric is not worth failing a request or a build.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping

import redis
from prometheus_client import Histogram
from prometheus_client.core import HistogramMetricFamily

from .health import redis_client

log = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "studio_http_request_duration_seconds",
    "Time from a request's arrival to its response, by view.",
    ["view", "method", "status"],
    registry=None,  # collected by the /metrics view (studio/core/metrics.py)
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_KEY = "studio:metrics:{name}"
# Seconds: builds and smoke tests take from a second to many minutes.
DURATION_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class RedisHistogram:
    """A histogram whose counts live in Redis, shared by every process."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: tuple[str, ...],
        buckets: tuple[float, ...] = DURATION_BUCKETS,
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = labels
        self.buckets = buckets
        self.key = _KEY.format(name=name)

    def observe(self, value: float, **labels: str) -> None:
        """Count `value` (seconds) under `labels`; logs, never raises."""
        field = json.dumps([labels.get(name, "") for name in self.labels])
        try:
            pipe = redis_client().pipeline(transaction=False)
            for bound in self.buckets:
                if value <= bound:
                    pipe.hincrby(self.key, f"{field}|{bound}", 1)
            pipe.hincrby(self.key, f"{field}|+Inf", 1)
            pipe.hincrbyfloat(self.key, f"{field}|sum", value)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not record %s: %s", self.name, exc)

    def family(self, raw: Mapping[bytes, bytes]) -> HistogramMetricFamily:
        """The histogram as a scrape shows it, from the hash's fields."""
        series: dict[str, dict[str, float]] = defaultdict(dict)
        for key, value in raw.items():
            field, _, bound = key.decode().rpartition("|")
            series[field][bound] = float(value)
        family = HistogramMetricFamily(
            self.name, self.documentation, labels=list(self.labels)
        )
        for field, counts in sorted(series.items()):
            buckets = [
                (str(bound), counts.get(str(bound), 0.0)) for bound in self.buckets
            ]
            buckets.append(("+Inf", counts.get("+Inf", 0.0)))
            family.add_metric(
                json.loads(field), buckets, sum_value=counts.get("sum", 0.0)
            )
        return family


BUILD_DURATION = RedisHistogram(
    "studio_build_duration_seconds",
    "Time from a build's start on a worker to its end, by kind and outcome.",
    ("kind", "status"),
)
SMOKE_DURATION = RedisHistogram(
    "studio_smoke_duration_seconds",
    "Time the smoke step of a build took, by outcome.",
    ("status",),
)
REDIS_HISTOGRAMS = (BUILD_DURATION, SMOKE_DURATION)


def redis_histograms() -> Iterator[HistogramMetricFamily]:
    """The worker-observed histograms; raises redis.RedisError."""
    pipe = redis_client().pipeline(transaction=False)
    for histogram in REDIS_HISTOGRAMS:
        pipe.hgetall(histogram.key)
    for histogram, raw in zip(REDIS_HISTOGRAMS, pipe.execute(), strict=True):
        yield histogram.family(raw)
