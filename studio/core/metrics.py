"""GET /metrics: the studio's Prometheus metrics, for a scraper with the token
(METRICS_TOKEN) or from an allowed address (METRICS_ALLOW); 404 when neither
is configured, 403 for anyone else.

Read at scrape time: builds by status and kind (the database), the Celery
queues' depth (Redis LLEN), the last beat tick, the playground server's
running sessions (absent when it does not answer), and the durations workers
recorded in Redis (builds, smoke steps; studio/lib/metrics.py). Kept by the
web processes: request latency by view (multiprocess files when
PROMETHEUS_MULTIPROC_DIR is set).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Iterator

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.core import CollectorRegistry, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from studio.accounts.throttle import client_ip
from studio.builds.models import Build
from studio.lib.health import queue_depths
from studio.lib.metrics import REQUEST_LATENCY, redis_histograms
from studio.playground import client as playground
from studio.playground.sessions import PlaygroundError

from .health import beat_last_tick

log = logging.getLogger(__name__)

REFUSED = (
    "Metrics need `Authorization: Bearer <METRICS_TOKEN>` or a request from an "
    "address in METRICS_ALLOW."
)


class StudioCollector(Collector):
    """What the studio is doing, read from the database and Redis per scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            yield self._builds()
        except DatabaseError as exc:
            log.warning("metrics: could not count builds: %s", exc)
        try:
            yield self._queues()
            yield from redis_histograms()
            beat = GaugeMetricFamily(
                "studio_beat_last_tick_timestamp_seconds",
                "When a beat task last ran (Unix time; absent before the first).",
            )
            last = beat_last_tick()
            if last is not None:
                beat.add_metric([], last)
            yield beat
        except redis.RedisError as exc:
            log.warning("metrics: could not read Redis: %s", exc)
        yield self._playground()

    def _playground(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "studio_playground_sessions",
            "Sessions the playground server of this machine holds (absent when "
            "it does not answer).",
        )
        try:
            family.add_metric([], playground.running_sessions())
        except PlaygroundError as exc:
            log.info("metrics: playground server: %s", exc.message)
        return family

    def _builds(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "studio_builds",
            "Builds in the database, by status and kind.",
            labels=["status", "kind"],
        )
        counts = {
            (row["status"], row["kind"]): row["n"]
            for row in Build.objects.order_by()
            .values("status", "kind")
            .annotate(n=Count("id"))
        }
        for status in Build.Status.values:
            for kind in Build.Kind.values:
                family.add_metric([status, kind], counts.get((status, kind), 0))
        return family

    def _queues(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "studio_queue_depth",
            "Messages waiting in a Celery queue.",
            labels=["queue"],
        )
        for name, depth in queue_depths().items():
            family.add_metric([name], depth)
        return family


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(StudioCollector())
    return registry


def allowed(request: HttpRequest) -> bool:
    """The request has the metrics token or comes from an allowed address.

    Raises Http404 when neither is configured: /metrics is off.
    """
    token, networks = settings.METRICS_TOKEN, settings.METRICS_ALLOW
    if not token and not networks:
        raise Http404("metrics are off")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    address = client_ip(request)
    if networks and address:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(
            ip in ipaddress.ip_network(network, strict=False) for network in networks
        )
    return False


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse(REFUSED, status=403, content_type="text/plain")
    return HttpResponse(
        generate_latest(_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4
    )
