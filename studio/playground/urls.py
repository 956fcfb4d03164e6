"""Routes of the Try it tab."""

from __future__ import annotations

from django.urls import path

from . import panels, views

app_name = "playground"

urlpatterns = [
    path("providers/<int:provider_id>/try/", views.try_page, name="try"),
    path(
        "providers/<int:provider_id>/try/start",
        views.session_start,
        name="session-start",
    ),
    path(
        "providers/<int:provider_id>/try/form",
        views.start_form,
        name="start-form",
    ),
    path(
        "providers/<int:provider_id>/try/build",
        views.build_now,
        name="build-now",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/end",
        views.session_end,
        name="session-end",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/chat",
        panels.chat_send,
        name="chat",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/embed",
        panels.embed,
        name="embed",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/rerank",
        panels.rerank,
        name="rerank",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/moderate",
        panels.moderate,
        name="moderate",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/transcribe",
        panels.transcribe,
        name="transcribe",
    ),
    path(
        "providers/<int:provider_id>/try/<str:session_id>/speak",
        panels.speak,
        name="speak",
    ),
]
