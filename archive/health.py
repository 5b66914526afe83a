"""Probes for what runs the site: /healthz (the process answers) and /readyz (and the
database with it).

A load balancer or orchestrator asks over plain HTTP, by the machine's address, often
every few seconds. So the probes are answered by the first middleware, before the host
check (ALLOWED_HOSTS), the redirect to https and everything after them: no session, no
rate limit, no page cache. Neither answer says anything about the request or depends on
its Host header.

/healthz is liveness: no database, so an outage of the database never has the web
processes restarted (which would not bring it back). /readyz is readiness: `SELECT 1` on
the connection the pages use, under a short statement timeout, so traffic goes elsewhere
while this process cannot serve the archive.
"""

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.utils.cache import add_never_cache_headers

from archive.failures import RETRY_AFTER, first_line

log = logging.getLogger(__name__)

# The longest /readyz waits on a statement: a database that takes longer for `SELECT 1`
# is not ready to serve pages.
READY_TIMEOUT_MS = 1000


def healthz(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def readyz(request):
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {READY_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        log.warning("/readyz: database unavailable: %s", first_line(error))
        response = JsonResponse(
            {
                "status": "unavailable",
                "error": "De database is niet bereikbaar.",
                "retry_after": RETRY_AFTER,
            },
            status=503,
        )
        response["Retry-After"] = str(RETRY_AFTER)
        # Logged above in one line; Django would add its own line for every 5xx.
        response._has_been_logged = True
        return response
    return JsonResponse({"status": "ok"})


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthProbeMiddleware:
    """Answers the probes itself; first in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponseNotAllowed(["GET", "HEAD"])
        else:
            response = probe(request)
        add_never_cache_headers(response)
        return response
