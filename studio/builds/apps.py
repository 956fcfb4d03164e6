from __future__ import annotations

from django.apps import AppConfig


class BuildsConfig(AppConfig):
    name = "studio.builds"
    label = "builds"
    verbose_name = "Builds"
