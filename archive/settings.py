"""Kroniek settings, all read from the environment.

DATABASE_URL    a PostgreSQL server (postgres://user:pass@host:port/name); when unset,
                an embedded PostgreSQL is started under .pgdata/ in the project.
SECRET_KEY      required to serve through WSGI (gunicorn); see archive/wsgi.py.
DEBUG           off unless set to 1/true.
ALLOWED_HOSTS   comma-separated host names (default: 127.0.0.1,localhost).
HTTPS           set to 1 behind TLS: secure cookies, HSTS and redirects to https.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from archive.env import env_bool, env_int, env_list, env_rate, env_url_prefix
from archive.routers import replica_database

BASE_DIR = Path(__file__).resolve().parent.parent

# The placeholder lets manage.py and the tests run without a key; wsgi.py refuses
# to serve with it, so no production process can start with a guessable key.
DEVELOPMENT_SECRET_KEY = "kroniek-development-only-not-secret"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Background work (re-checking pieces after an editor's change) as tasks in
    # PostgreSQL, run by `manage.py db_worker` (gunicorn.conf.py starts one). Before the
    # archive, whose admin replaces the task list with its own (Nalooptaken).
    "django_tasks",
    "django_tasks_db",
    "archive.apps.ArchiveConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    # Failed admin logins counted and locked out (settings below).
    "axes",
]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

MIDDLEWARE = [
    # /healthz and /readyz, answered before the host check and the https redirect: a load
    # balancer probes by the machine's address over plain HTTP (archive/health.py).
    "archive.health.HealthProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # More readers than the workers can answer in time: a quick 503 (archive/failures.py).
    "archive.failures.OverloadMiddleware",
    # The database away or a reader's query too slow: a 503, not a 500 (archive/failures.py).
    "archive.failures.DatabaseFailureMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "archive.ratelimit.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Which database a request reads from, with DATABASE_REPLICA_URLS (archive/routers.py).
    "archive.routers.ReplicaMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "archive.urls"
WSGI_APPLICATION = "archive.wsgi.application"

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
            ],
        },
    },
]

# Seconds a worker thread keeps its database connection between requests (0: one per
# request, for PgBouncer in session mode; docs/scaling.md).
DATABASE_CONN_MAX_AGE = env_int("DATABASE_CONN_MAX_AGE", 60)
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=DATABASE_CONN_MAX_AGE
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "archive.embedded_db",
            "NAME": "kroniek",
            "DATA_DIR": os.environ.get("KRONIEK_PGDATA", str(BASE_DIR / ".pgdata")),
        }
    }
# The embedded server too: a new connection costs a request a few milliseconds more.
DATABASES["default"].setdefault("CONN_MAX_AGE", DATABASE_CONN_MAX_AGE)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database host that does not answer at all (not even a refusal) costs a request this
# many seconds, then a 503, rather than the worker's whole timeout.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
)
# Milliseconds a statement of a reader's request may run (0: no limit); editors, commands
# and imports are never cut off (archive/failures.py).
READER_STATEMENT_TIMEOUT = env_int("READER_STATEMENT_TIMEOUT", 3000)
# Streaming replicas of that server (comma-separated URLs like DATABASE_URL): readers'
# pages and searches read from them; writes, editors and commands use the primary
# (archive/routers.py, docs/scaling.md). Every statement on them has the readers' limit.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica_{_number}"] = replica_database(
        _url,
        statement_timeout=READER_STATEMENT_TIMEOUT,
        connect_timeout=DATABASES["default"]["OPTIONS"]["connect_timeout"],
        conn_max_age=DATABASE_CONN_MAX_AGE,
    )
DATABASE_ROUTERS = ["archive.routers.ReplicaRouter"] if DATABASE_REPLICA_URLS else []
# Seconds a client reads from the primary after it saved something: longer than the
# replicas' usual lag, so the page an editor opens next shows their change.
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 15)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Where the admin answers ("beheer-7f3k/"): another path than /admin/ keeps the scanners
# that try every site's /admin/ away from the login form.
ADMIN_URL = env_url_prefix("ADMIN_URL", "admin/")

# Guessing admin passwords (django-axes, its database handler): after ADMIN_LOGIN_FAILURES
# failed logins from one client address (any accounts) or on one account (from any
# addresses) within the cool-off, that address or account cannot log in, not even with
# the right password, until ADMIN_LOCKOUT_MINUTES have passed without another attempt.
# Both, separately: the pair (account, address) alone would let one client try every
# account, and many clients try one. `manage.py axes_reset` unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURES", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "archive.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "archive.ratelimit.client_address"
# The logs name the address; a typed user name may be a password typed in the wrong field.
AXES_SENSITIVE_PARAMETERS = ["username"]

# Requests per client to the costly reader routes (archive/ratelimit.py), as count/seconds.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMIT_SEARCH = env_rate("RATE_LIMIT_SEARCH", "60/60")
RATE_LIMIT_API = env_rate("RATE_LIMIT_API", "120/60")
RATE_LIMIT_FEED = env_rate("RATE_LIMIT_FEED", "60/60")
RATE_LIMIT_EXPORT = env_rate("RATE_LIMIT_EXPORT", "10/60")
# Suggestions in the search box (/api/suggesties/): one request per pause in typing.
RATE_LIMIT_SUGGEST = env_rate("RATE_LIMIT_SUGGEST", "600/60")
# Proxies in front of gunicorn that append the client's address to X-Forwarded-For (a
# load balancer and nginx: 2). At 0 the header is ignored: anyone can write it.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# The counters are in Redis when there is one (the cache's), else in PostgreSQL.
RATE_LIMIT_REDIS_URL = os.environ.get("REDIS_URL", "")
RATE_LIMIT_KEY_PREFIX = os.environ.get("CACHE_PREFIX", "kroniek") + ":ratelimit:"

LANGUAGE_CODE = "nl"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

HTTPS = env_bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The Dutch 403 page (templates/403_csrf.html), or JSON under /api/.
CSRF_FAILURE_VIEW = "archive.views.csrf_failure"
# Content-Security-Policy on every response (django-csp): scripts and styles only from
# files on this site, never inline, so markup that slips into a page cannot run. The
# charts are inline SVG with presentation attributes, which the policy does not govern.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Failed admin logins and lockouts, whatever LOG_LEVEL says.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Text search configuration made by migration 0001: Dutch snowball stemming over
# unaccented words. Every vector, query and headline names it.
SEARCH_CONFIG = "dutch_unaccent"
ARTICLES_PER_PAGE = env_int("ARTICLES_PER_PAGE", 20)
# The most pieces one result list is drawn from (archive/search/pool.py): counts and
# facets are exact up to here, "meer dan" past it; 50 pages of 20.
SEARCH_POOL_SIZE = env_int("SEARCH_POOL_SIZE", 1000)
# Past the pool's size, facets are counted over its first so many pieces (a labelled
# sample), not all of it: each piece counted costs a few index probes.
SEARCH_FACET_SAMPLE = env_int("SEARCH_FACET_SAMPLE", 300)

# Input size limits, refused with a message saying the size and the limit (archive/
# forms.py, archive/paste.py, archive/ingest.py). A piece's text: a long read is about
# 100,000 characters, so 200,000 leaves room; and at 200,000 even the worst text (every
# word another word of 4-byte characters) keeps the piece's full-text vector under
# PostgreSQL's 1 MB limit, and its highlighted snippet cheap to make for a results page.
MAX_PIECE_CHARS = env_int("MAX_PIECE_CHARS", 200_000)
MAX_LEAD_CHARS = env_int("MAX_LEAD_CHARS", 5_000)
# Raw text before cleaning (the admin's paste box, an imported text): captions, cookie
# notices and menus often add as much again as the piece.
MAX_PASTE_CHARS = env_int("MAX_PASTE_CHARS", 2 * MAX_PIECE_CHARS)
# One line of JSON Lines, or one text or saved HTML file, for manage.py import_articles:
# room for a piece at the limit written with \uXXXX escapes, or a page's scripts and menus.
MAX_IMPORT_CHARS = env_int("MAX_IMPORT_CHARS", 5_000_000)
# A form's fields together (Django's default is 2.5 MB): the piece's admin form at the
# limits with every character percent-encoded at its widest (12 bytes), with room for
# its link rows. The paste forms send multipart, UTF-8 as is (at most 4 bytes a character).
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * (MAX_PIECE_CHARS + MAX_LEAD_CHARS) + 1_000_000

# Shared by every worker, so an editor's change invalidates what all of them cached
# (archive/search/catalogue.py): Redis when REDIS_URL is set (needed when workers run
# on several machines), else files in one folder, shared by the workers of one machine
# and costing the database nothing.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "kroniek"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("KRONIEK_CACHE_DIR", str(BASE_DIR / ".cache")),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
