"""Routes of notifications: the list, opening one, marking read, preferences."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:notification_id>/", views.notification_open, name="open"),
    path("<int:notification_id>/read", views.notification_read, name="read"),
    path("read-all", views.notification_read_all, name="read-all"),
    path("settings", views.notification_settings, name="settings"),
]
