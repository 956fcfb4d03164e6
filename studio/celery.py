"""The Celery application, configured from Django settings (namespace CELERY)."""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun

from studio.lib import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**kwargs: Any) -> None:
    """Workers and beat log as the web does (settings.LOGGING, LOG_FORMAT), not
    with Celery's own handlers."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


# Each task runs with the request id its message carries (studio/lib/logs.py).
task_prerun.connect(logs.task_started, weak=False)
task_postrun.connect(logs.task_finished, weak=False)
