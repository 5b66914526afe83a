"""Small readers for settings from the environment that fail loudly on bad values."""

import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false).")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate as "count/seconds" (e.g. "60/60": sixty requests a minute)."""
    raw = os.environ.get(name, "").strip() or default
    count, _, seconds = raw.partition("/")
    try:
        rate = int(count), int(seconds)
    except ValueError:
        rate = (0, 0)
    if rate[0] < 1 or rate[1] < 1:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 60/60 (count/seconds).")
    return rate


def env_url_prefix(name: str, default: str) -> str:
    """A path under the site's root for urls.py: "beheer/", never "/beheer" or "beheer".
    Plain URL characters only: urls.py would read "<...>" as a converter."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"([A-Za-z0-9._~-]+/)+", value):
        raise ImproperlyConfigured(
            f"{name}={value!r} must be a path such as 'beheer/': letters, digits and "
            "-._~, ending in '/', not starting with it."
        )
    return value
