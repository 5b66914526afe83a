"""The page django-axes shows a locked-out login (AXES_LOCKOUT_CALLABLE): Dutch, 429,
with Retry-After. Failures count for the cool-off after they happened, and none is newer
than this attempt (which axes counts too), so a whole cool-off from now the lockout has
lifted, unless the guessing goes on."""

from axes.helpers import get_cool_off
from django.shortcuts import render


def lockout_response(request, response, credentials):
    retry_after = int(get_cool_off(request).total_seconds())
    page = render(request, "admin/lockout.html", {"retry_after": retry_after}, status=429)
    page["Retry-After"] = str(retry_after)
    return page
