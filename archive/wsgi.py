"""WSGI entry point for gunicorn: `gunicorn archive.wsgi`."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "archive.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402  (settings are configured by the line above)

if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY and not settings.DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it to a long random value before serving Kroniek "
        "(`make run` makes one in .secret_key)."
    )
