"""Settings for the studio, read from environment variables.

Everything has a development default (SQLite under var/, an embedded Redis
started by `make run`), and production is the same file with other values:
see docs/deploy.md. Application code reads `settings`, never `os.environ`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false), not {value!r}"
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an integer, not {value!r}"
        ) from None


def env_list(name: str, default: str) -> list[str]:
    return [v.strip() for v in env_str(name, default).split(",") if v.strip()]


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


VAR_DIR = env_path("STUDIO_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)


def _development_secret_key() -> str:
    # A development checkout gets its own random key, kept across restarts
    # so sessions survive; production must set SECRET_KEY explicitly.
    path = VAR_DIR / "secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "studio.core",
    "studio.audit",
    "studio.notifications",
    "studio.accounts",
    "studio.catalog",
    "studio.builds",
    "studio.debugging",
    "studio.sync",
    "studio.reviews",
    "studio.playground",
    "studio.api",
]

MIDDLEWARE = [
    # First: the request id, the request's log line and its latency metric
    # cover everything below, redirects and errors included.
    "studio.core.middleware.observe",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.catalog.context_processors.teams",
                "studio.notifications.context_processors.notifications",
                "studio.core.theme.theme",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'studio.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL and a busy timeout let the web process and a worker share the file.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so a real worker process in the tests sees the rows.
    # One file per test process, so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-studio-{os.getpid()}.sqlite3")
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (whitenoise) and stored files (uploads, artifacts).
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
if DEBUG:
    # whitenoise warns about a missing root; collectstatic fills it in production.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Stored files (uploads waiting for a worker or a choice, build artifacts) live
# in a folder (filesystem) or in an S3-compatible bucket (s3): docs/deploy.md.
STORAGE_BACKENDS = ("filesystem", "s3")
STORAGE_BACKEND = env_str("STORAGE_BACKEND") or "filesystem"
if STORAGE_BACKEND not in STORAGE_BACKENDS:
    raise ImproperlyConfigured(
        f"STORAGE_BACKEND must be one of {', '.join(STORAGE_BACKENDS)}, "
        f"not {STORAGE_BACKEND!r}"
    )
STORAGE_DIR = env_path("STORAGE_DIR", VAR_DIR / "storage")
MEDIA_ROOT = STORAGE_DIR
# With s3, a download is checked and logged by the studio, then answered by a
# redirect to a presigned URL valid this long (the client follows it at once).
S3_DOWNLOAD_EXPIRY_SECONDS = env_int("S3_DOWNLOAD_EXPIRY_SECONDS", 60)
# "redirect" (the bucket serves the bytes) or "stream" (this process does, for
# a bucket the clients cannot reach).
S3_DOWNLOAD_MODES = ("redirect", "stream")
S3_DOWNLOADS = env_str("S3_DOWNLOADS") or "redirect"
if S3_DOWNLOADS not in S3_DOWNLOAD_MODES:
    raise ImproperlyConfigured(
        f"S3_DOWNLOADS must be one of {', '.join(S3_DOWNLOAD_MODES)}, "
        f"not {S3_DOWNLOADS!r}"
    )


def default_storage_settings(backend: str, storage_dir: Path) -> dict[str, object]:
    """STORAGES["default"] for `backend`, the bucket's settings read from the
    environment (the tests call it too, with a bucket of their own)."""
    if backend == "filesystem":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(storage_dir)},
        }
    bucket = env_str("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME (the bucket's name)"
        )
    style = env_str("AWS_S3_ADDRESSING_STYLE")
    if style not in ("", "path", "virtual"):
        raise ImproperlyConfigured(
            f"AWS_S3_ADDRESSING_STYLE must be path or virtual, not {style!r}"
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Empty means AWS itself, its default region, and boto3's own
            # credentials (instance role, ~/.aws) respectively.
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "addressing_style": style or None,
            "signature_version": "s3v4",
            # No ACL sent: objects are as private as the bucket (keep it
            # private); every read is signed, every download presigned.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": S3_DOWNLOAD_EXPIRY_SECONDS,
            # Like the folder: a second file of one name gets another name.
            "file_overwrite": False,
            # An object read by a worker is held in memory up to this, then in
            # a temporary file (deleted when closed).
            "max_memory_size": 8 * 1024 * 1024,
        },
    }


STORAGES = {
    "default": default_storage_settings(STORAGE_BACKEND, STORAGE_DIR),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security: secure by default whenever DEBUG is off; each can be relaxed
# explicitly (e.g. SECURE_SSL_REDIRECT=0 behind a TLS-terminating proxy that
# already redirects).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Redis: broker for Celery. `make run` starts an embedded server and sets it.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Longer than any task may run: with acks_late an unacknowledged task is
    # handed to another worker only after this.
    "visibility_timeout": 2 * 60 * 60,
    # A dead broker must fail a publish fast, not hang the request: each
    # connect gives up after BROKER_CONNECT_TIMEOUT, and a publish reconnects
    # once at once instead of retrying for seconds (kombu's default). The
    # worker's own reconnecting is not affected (broker_connection_max_retries).
    "socket_connect_timeout": env_int("BROKER_CONNECT_TIMEOUT", 2),
    "max_retries": 1,
    "interval_start": 0,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # job state lives on our own rows
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 16 * 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "studio.builds.tasks.*": {"queue": "builds"},
    "studio.debugging.tasks.*": {"queue": "builds"},
}
# The queues a studio worker consumes (`celery -A studio worker -Q default,builds`).
CELERY_WORKER_QUEUES = ["default", "builds"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False

# A worker counts as alive in /healthz when it answered a ping this recently.
WORKER_PING_FRESH_SECONDS = env_int("WORKER_PING_FRESH_SECONDS", 30)

# Logs: `text` for a terminal (`make run`), `json` in production (one object
# per line, with the request id that follows a build into the worker; see
# studio/lib/logs.py and docs/deploy.md, "Logs").
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "studio.lib.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"()": "studio.lib.logs.TextFormatter"},
        "json": {"()": "studio.lib.logs.JsonLineFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # django-axes logs every successful login at INFO; failures stay visible.
        "axes": {"level": "WARNING"},
        # runserver's access line: studio.request logs each request instead
        # (with its view, duration and request id); errors still show.
        "django.server": {"level": "WARNING"},
    },
}

# ---- builds (studio.builds) --------------------------------------------------
# Dev artifacts kept per provider (older ones are deleted; releases never are).
BUILD_DEV_ARTIFACTS_KEEP = env_int("BUILD_DEV_ARTIFACTS_KEEP", 10)
# A running build whose heartbeat is older than this lost its worker.
BUILD_STALE_SECONDS = env_int("BUILD_STALE_SECONDS", 60)
# Runs of one build, the first included, before a lost worker fails it.
BUILD_MAX_ATTEMPTS = env_int("BUILD_MAX_ATTEMPTS", 2)
# The smoke step: a function (package, *, runtime, should_stop) -> SmokeOutcome.
BUILD_SMOKE_RUNNER = env_str(
    "BUILD_SMOKE_RUNNER", "studio.builds.services.pipeline.smoke_artifact"
)
BUILD_SMOKE_TIMEOUT = env_int("BUILD_SMOKE_TIMEOUT", 120)
BUILD_SMOKE_MEMORY_MB = env_int("BUILD_SMOKE_MEMORY_MB", 1024)
# Cached Python 3.12 virtualenvs with the plugin SDK, one per resolved package
# set, built with uv; the least recently used go above SDK_VENV_CACHE_MAX_MB.
SMOKE_VENV_DIR = env_path("SMOKE_VENV_DIR", VAR_DIR / "cache" / "sdk-venvs")
# The Marketplace pre-check (docs/marketplace.md): queued after every build that
# succeeds; a check queued or running longer than this lost its worker.
MARKETPLACE_CHECK_AFTER_BUILD = env_bool("MARKETPLACE_CHECK_AFTER_BUILD", True)
MARKETPLACE_CHECK_STALE_SECONDS = env_int("MARKETPLACE_CHECK_STALE_SECONDS", 900)
SDK_VENV_CACHE_MAX_MB = env_int("SDK_VENV_CACHE_MAX_MB", 2048)
# uv's download cache (wheels, index pages): later builds work offline from it.
SDK_UV_CACHE_DIR = env_path("SDK_UV_CACHE_DIR", VAR_DIR / "cache" / "uv")
# A worker that starts builds the venv of a new plugin's requirements, in the
# background, so the first build does not wait for it.
SDK_VENV_PREWARM = env_bool("SDK_VENV_PREWARM", True)

# The playground (docs/playground.md): its server's socket, session limits and
# the hosts/CIDRs a plugin may reach although they are internal.
PLAYGROUND_SOCKET = env_path("PLAYGROUND_SOCKET", VAR_DIR / "playground.sock")
PLAYGROUND_IDLE_SECONDS = env_int("PLAYGROUND_IDLE_SECONDS", 300)
PLAYGROUND_MAX_PER_USER = env_int("PLAYGROUND_MAX_PER_USER", 2)
PLAYGROUND_MAX_SESSIONS = env_int("PLAYGROUND_MAX_SESSIONS", 8)
PLAYGROUND_MEMORY_MB = env_int("PLAYGROUND_MEMORY_MB", 1024)
PLAYGROUND_REQUEST_TIMEOUT = env_int("PLAYGROUND_REQUEST_TIMEOUT", 60)
PLAYGROUND_EGRESS_ALLOW = [
    entry.strip()
    for entry in env_str("PLAYGROUND_EGRESS_ALLOW", "").split(",")
    if entry.strip()
]
# A playground plugin in a network namespace of its own, out only through the
# egress proxy: "auto" where the machine allows it, "required" (refuse sessions
# otherwise) or "off" (proxy variables only).
PLAYGROUND_NETWORK_ISOLATION = env_str("PLAYGROUND_NETWORK_ISOLATION", "auto")
if PLAYGROUND_NETWORK_ISOLATION not in ("auto", "required", "off"):
    raise ImproperlyConfigured(
        "PLAYGROUND_NETWORK_ISOLATION must be auto, required or off, not "
        f"{PLAYGROUND_NETWORK_ISOLATION!r}"
    )
# Fernet key(s), comma-separated, encrypting team signing keys at rest (the first
# encrypts, all decrypt); empty derives one from SECRET_KEY (see builds/keys.py).
SIGNING_KEY_ENCRYPTION_KEY = env_str("SIGNING_KEY_ENCRYPTION_KEY")
# ---- end of builds ------------------------------------------------------------

# ---- remote debugging (studio.debugging) --------------------------------------
# A session runs a build's plugin against a team's Dify for at most this long.
DEBUG_SESSION_MAX_SECONDS = env_int("DEBUG_SESSION_MAX_SECONDS", 30 * 60)
DEBUG_SESSION_MEMORY_MB = env_int("DEBUG_SESSION_MEMORY_MB", 1024)
# Running sessions per user (one each keeps worker slots free for builds).
DEBUG_SESSIONS_PER_USER = env_int("DEBUG_SESSIONS_PER_USER", 1)
# Hosts, addresses or CIDRs a debugging address may resolve to although they are
# private (a team's own Dify on its network); loopback etc. are refused otherwise.
DEBUG_EGRESS_ALLOW = env_list("DEBUG_EGRESS_ALLOW", "")
# ---- end of remote debugging ---------------------------------------------------

# ---- catalogue sync (studio.sync, docs/sync.md) --------------------------------
# Hosts, addresses or CIDRs a model list or price table URL may resolve to although
# they are private (a vendor gateway on the team's network); refused otherwise.
SYNC_EGRESS_ALLOW = env_list("SYNC_EGRESS_ALLOW", "")
# Largest price table accepted (upload or URL), and the drift watch's beat period.
SYNC_TABLE_MAX_BYTES = env_int("SYNC_TABLE_MAX_BYTES", 8 * 1024 * 1024)
SYNC_WATCH_EVERY_MINUTES = env_int("SYNC_WATCH_EVERY_MINUTES", 15)
# ---- end of catalogue sync -----------------------------------------------------

# ---- API (studio.api) --------------------------------------------------------
# Requests each API token may make per window (a fixed window counted in Redis;
# if Redis is down, requests are allowed).
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600)
API_RATE_WINDOW = env_int("API_RATE_WINDOW", 60)

# ---- mail (studio.notifications) ----------------------------------------------
# Development prints mail on the console (`make run` shows it in its terminal);
# production sets EMAIL_BACKEND=smtp and the EMAIL_HOST... variables.
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _email_backend not in EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)}, "
        f"not {_email_backend!r}"
    )
MAILERS: dict[str, dict[str, object]] = {
    "default": {"BACKEND": EMAIL_BACKENDS[_email_backend]}
}
if _email_backend == "smtp":
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": env_str("EMAIL_HOST_USER"),
        "password": env_str("EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
        "use_ssl": env_bool("EMAIL_USE_SSL", False),
        "timeout": env_int("EMAIL_TIMEOUT", 10),
    }
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "Dify plugin studio <studio@localhost>"
)
# Links in mail point here (a worker has no request to take the host from).
STUDIO_BASE_URL = env_str("STUDIO_BASE_URL", "http://127.0.0.1:8000")
# ---- end of mail ----------------------------------------------------------------

# ---- teams (studio.catalog: members and invitations) ---------------------------
# An invitation link works this many days, once.
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 7)
# Anyone may create an account at /accounts/signup/ (else only by invitation).
OPEN_SIGNUP = env_bool("OPEN_SIGNUP", False)
# Members' "last active" on the members page (written at most every 5 minutes).
MIDDLEWARE = [*MIDDLEWARE, "studio.catalog.middleware.membership_activity"]
# ---- end of teams ---------------------------------------------------------------

# ---- accounts (studio.accounts) ---------------------------------------------------
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a
# row for one username from one address, that pair is locked out for
# AXES_COOLOFF_MINUTES (each further try restarts the wait); a success before
# the limit resets the count. API tokens never log in, so they are not affected.
AUTHENTICATION_BACKENDS = ["studio.accounts.throttle.ThrottledModelBackend"]
MIDDLEWARE = [*MIDDLEWARE, "axes.middleware.AxesMiddleware"]  # last, as axes asks
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No row per successful login: we never read them, and they would keep growing.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command
AXES_LOCKOUT_CALLABLE = "studio.accounts.throttle.lockout_response"
# Behind N reverse proxies, the client's address is the Nth from the right in
# X-Forwarded-For (0: REMOTE_ADDR, a direct connection).
LOGIN_PROXY_COUNT = env_int("LOGIN_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "studio.accounts.throttle.client_ip"
# ---- end of accounts ----------------------------------------------------------

# ---- scheduled upkeep (Celery beat; docs/deploy.md, "Scheduled upkeep") --------
# Exactly one `celery -A studio beat` per installation (`make run` runs it
# inside its worker). Each task is safe to run twice at once anyway.
# How often the hourly kind of upkeep runs (imports, invitations, tokens,
# dev artifacts, SDK virtualenvs).
UPKEEP_EVERY_MINUTES = env_int("UPKEEP_EVERY_MINUTES", 60)
# An import waiting for a choice this long is cancelled, one waiting for (or
# running on) a worker failed, and its stored upload deleted; so are uploads
# this old that no waiting import names.
IMPORT_ABANDONED_HOURS = env_int("IMPORT_ABANDONED_HOURS", 24)
# Expired or revoked invitations and API tokens are listed as such this many
# days, then deleted.
EXPIRED_KEEP_DAYS = env_int("EXPIRED_KEEP_DAYS", 30)
# A beat task records its tick in Redis this often; /healthz calls beat stale
# after BEAT_STALE_SECONDS and counts it in its overall answer only when
# HEALTHZ_REQUIRE_BEAT is on (a load balancer should not drop web servers
# because the scheduler stopped).
BEAT_TICK_SECONDS = env_int("BEAT_TICK_SECONDS", 60)
BEAT_STALE_SECONDS = env_int("BEAT_STALE_SECONDS", 300)
HEALTHZ_REQUIRE_BEAT = env_bool("HEALTHZ_REQUIRE_BEAT", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


def _every(seconds: int, task: str) -> dict[str, object]:
    # A tick nobody ran before the next one is worthless: let it expire.
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


_upkeep = UPKEEP_EVERY_MINUTES * 60
CELERY_BEAT_SCHEDULE = {
    "beat-tick": _every(BEAT_TICK_SECONDS, "studio.core.tasks.beat_tick"),
    "builds-reap-stale": _every(
        max(10, BUILD_STALE_SECONDS), "studio.builds.tasks.builds_reap"
    ),
    "builds-prune": _every(_upkeep, "studio.builds.tasks.builds_prune_all"),
    "sdk-venvs-evict": _every(_upkeep, "studio.builds.tasks.sdk_venvs_evict"),
    "imports-expire": _every(_upkeep, "studio.catalog.tasks.import_jobs_expire"),
    "invitations-purge": _every(_upkeep, "studio.catalog.tasks.invitations_purge"),
    "api-tokens-purge": _every(_upkeep, "studio.api.tasks.tokens_purge"),
    "sync-watches": _every(
        SYNC_WATCH_EVERY_MINUTES * 60, "studio.sync.tasks.sync_watches_run"
    ),
}
# ---- end of scheduled upkeep ----------------------------------------------------

# ---- metrics (GET /metrics, Prometheus; docs/deploy.md, "Metrics") --------------
# /metrics answers a scraper that sends `Authorization: Bearer METRICS_TOKEN`,
# or comes from an address in METRICS_ALLOW (comma-separated addresses or
# networks, e.g. 10.0.0.0/8). With neither set it answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOW = env_list("METRICS_ALLOW", "")
for _network in METRICS_ALLOW:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOW: {_network!r} is not an address or network"
        ) from None
# Several gunicorn workers share their request metrics through files here
# (prometheus-client's multiprocess mode); empty: one process, in memory.
# The library reads the variable itself, so set it in the environment.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
# ---- end of metrics -------------------------------------------------------------
