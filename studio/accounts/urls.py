"""Routes of the account pages: settings (profile, password) and password reset."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("settings/profile/", views.profile, name="profile"),
    path(
        "settings/password/",
        views.PasswordChangeView.as_view(),
        name="password-change",
    ),
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(),
        name="password-reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password-reset-done",
    ),
    path(
        # Short, so the mailed link fits one line of a console-printed mail.
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]
