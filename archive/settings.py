"""Kroniek settings, all read from the environment.

DATABASE_URL    a PostgreSQL server (postgres://user:pass@host:port/name); when unset,
                an embedded PostgreSQL is started under .pgdata/ in the project.
SECRET_KEY      required to serve through WSGI (gunicorn); see archive/wsgi.py.
DEBUG           off unless set to 1/true.
ALLOWED_HOSTS   comma-separated host names (default: 127.0.0.1,localhost).
HTTPS           set to 1 behind TLS: secure cookies, HSTS and redirects to https.
"""

import os
from pathlib import Path

import dj_database_url

from archive.env import env_bool, env_int, env_list

BASE_DIR = Path(__file__).resolve().parent.parent

# The placeholder lets manage.py and the tests run without a key; wsgi.py refuses
# to serve with it, so no production process can start with a guessable key.
DEVELOPMENT_SECRET_KEY = "kroniek-development-only-not-secret"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "archive.embedded_db",
            "NAME": "kroniek",
            "DATA_DIR": os.environ.get("KRONIEK_PGDATA", str(BASE_DIR / ".pgdata")),
        }
    }
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
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
