from __future__ import annotations

from django.apps import AppConfig


class DebuggingConfig(AppConfig):
    name = "studio.debugging"
    label = "debugging"
    verbose_name = "Remote debugging"
