from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.accounts import views as accounts_views
from studio.builds import urls as builds_urls
from studio.catalog import urls as catalog_urls
from studio.core import metrics as core_metrics
from studio.core import views as core_views

# The catalog's routes, plus the provider deletion that builds serves under the
# catalog's name (catalog sits below builds and cannot import it).
catalog = ([*catalog_urls.urlpatterns, *builds_urls.catalog_urlpatterns], "catalog")

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_metrics.metrics, name="metrics"),
    path("theme", core_views.theme_set, name="theme-set"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("worker-checks/", core_views.worker_check_create, name="worker-check-create"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts_views.logout, name="logout"),
    path("", include("studio.accounts.urls")),
    path("", include(catalog)),
    path("", include("studio.builds.urls")),
    path("", include("studio.debugging.urls")),
    path("", include("studio.sync.urls")),
    path("", include("studio.reviews.urls")),
    path("", include("studio.playground.urls")),
    path("api/v1/", include("studio.api.urls")),
    path("settings/tokens/", include("studio.api.token_urls")),
    path("notifications/", include("studio.notifications.urls")),
    path("admin/", admin.site.urls),
]
