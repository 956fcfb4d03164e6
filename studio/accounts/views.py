"""Account pages: profile, password change, password reset, logout.

Password change and reset are Django's own views with the studio's templates;
the subclasses below only add what the studio asks of every form (bad input is
a 400), a message, and the lockout reset after a reset password.
"""

from __future__ import annotations

from typing import Any

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods, require_POST

from studio.lib.http import AuthedHttpRequest

from . import services
from .forms import ProfileForm, StudioPasswordResetForm

# FormView answers PUT like POST; these pages take GET and POST only.
FORM_METHODS = ["get", "head", "post"]


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def profile(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if request.method != "POST":
        form = ProfileForm(
            initial={
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
            }
        )
        return render(request, "accounts/profile.html", {"form": form})
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            services.profile_update(user=user, **form.cleaned_data)
        except services.EmailTaken as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, "Your profile was saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form}, status=400)


class _InvalidIs400:
    """An invalid form re-renders with its errors and HTTP 400."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response: HttpResponse = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = 400
        return response


class PasswordChangeView(
    _InvalidIs400, SuccessMessageMixin, auth_views.PasswordChangeView
):
    """Django's password change; the session stays logged in."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password-change")
    success_message = "Your password was changed."
    http_method_names = FORM_METHODS


class PasswordResetView(_InvalidIs400, auth_views.PasswordResetView):
    """Django's reset request: the same answer whether the address is known or not."""

    form_class = StudioPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password-reset-done")
    http_method_names = FORM_METHODS


class PasswordResetConfirmView(_InvalidIs400, auth_views.PasswordResetConfirmView):
    """Django's new-password form behind the mailed link."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
    http_method_names = FORM_METHODS

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and response.status_code == 200:
            response.status_code = 400  # the page says the link does not work
        return response

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # Whoever could open the mailed link owns the account: failed logins
        # counted against it no longer stand between them and the new password.
        axes_reset(username=form.user.get_username())
        return response


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    # The session is gone; the message travels in the messages cookie.
    messages.info(request, "You are logged out.")
    return redirect("login")
