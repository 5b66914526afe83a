"""Page metadata: canonical URLs and links to a page's feed, JSON and CSV twins."""

from django import template
from django.urls import reverse

from archive.forms import BrowseForm

register = template.Library()

# Pages with a feed of their own: the route's name and slug give the feed's.
_SUBJECT_ROUTES = {"actor", "event", "source", "author"}


@register.simple_tag(takes_context=True)
def canonical_url(context):
    """This page's absolute URL without its query string."""
    request = context["request"]
    return request.build_absolute_uri(request.path)


@register.simple_tag(takes_context=True)
def browse_canonical_url(context, page=None):
    """The browse page's absolute URL with only the browse parameters that have a value,
    in a fixed order, and the page number past page one: one URL per distinct page."""
    request = context["request"]
    params = request.GET.copy()
    kept = params.copy()
    kept.clear()
    for name in BrowseForm.base_fields:
        values = [v for v in params.getlist(name) if v.strip()]
        if values:
            kept.setlist(name, values)
    if page is not None and page.number > 1:
        kept["pagina"] = page.number
    query = kept.urlencode()
    return request.build_absolute_uri(request.path) + (f"?{query}" if query else "")


@register.simple_tag(takes_context=True)
def same_query(context, url_name, drop="pagina"):
    """url_name's URL with the current request's parameters, less those named in drop."""
    params = context["request"].GET.copy()
    for name in drop.split():
        params.pop(name, None)
    query = params.urlencode()
    return reverse(url_name) + (f"?{query}" if query else "")


@register.simple_tag(takes_context=True)
def subject_feed_url(context):
    """The Atom feed of the actor, event, source or author page being shown; empty on
    any other page."""
    match = context["request"].resolver_match
    if match is None or match.namespace != "archive" or match.url_name not in _SUBJECT_ROUTES:
        return ""
    return reverse(f"archive:{match.url_name}_feed", kwargs=match.kwargs)
