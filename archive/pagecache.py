"""Whole reader pages from the shared cache, until the archive changes.

Popular searches and pages repeat: served from the cache they cost a few milliseconds
instead of the statements and template behind them. Keyed by the full URL under the
archive's generation (archive/search/catalogue.py), so an editor's save shows at once.
Only anonymous GETs answered 200 are kept: reader pages carry no per-user content, and
signed-in editors always see the live page. A request with `Cache-Control: no-cache`
(a browser's forced reload; the benchmark's uncached runs) is answered afresh, and what
it computes replaces what was cached.
"""

import functools
import hashlib

from django.http import HttpResponse

from archive.search import catalogue

# Headers a cached page keeps; the rest (cookies, Vary) are the middleware's to set.
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Last-Modified")


def cached_page(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "GET" or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        token = catalogue.fresh.set("no-cache" in request.headers.get("Cache-Control", ""))
        try:
            return _served(view, request, *args, **kwargs)
        finally:
            catalogue.fresh.reset(token)

    return wrapper


def _served(view, request, *args, **kwargs):
    path = request.get_full_path()
    key = "page:" + hashlib.sha256(f"{request.get_host()}{path}".encode()).hexdigest()
    held = catalogue.peek(key)
    if held is not None:
        content, headers = held
        response = HttpResponse(content)
        for name, value in headers.items():
            response[name] = value
        return response
    response = view(request, *args, **kwargs)
    if response.status_code == 200 and not response.streaming:
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        kept = {h: response[h] for h in KEPT_HEADERS if response.has_header(h)}
        catalogue.keep(key, (response.content, kept))
    return response
