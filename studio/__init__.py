"""Dify model-plugin studio: the Django project and its apps."""

from .celery import app as celery_app

__all__ = ["celery_app"]
