from __future__ import annotations

from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "studio.sync"
    label = "sync"
    verbose_name = "Catalogue sync"
