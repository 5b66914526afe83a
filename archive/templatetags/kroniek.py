from django import template
from django.utils.formats import date_format

from archive.models import DatePrecision

register = template.Library()

_FORMATS = {
    DatePrecision.DAY: "j F Y",
    DatePrecision.MONTH: "F Y",
    DatePrecision.YEAR: "Y",
}


@register.filter
def precise_date(article):
    """The publication date as far as it is known: '26 juni 2023', 'juni 2023' or '2023'."""
    return date_format(article.published_on, _FORMATS[article.date_precision])


@register.filter
def iso_date(article):
    """Machine-readable date at its precision, for <time datetime>: 2023-06-26, 2023-06, 2023."""
    value = article.published_on.isoformat()
    return {DatePrecision.DAY: value, DatePrecision.MONTH: value[:7]}.get(
        article.date_precision, value[:4]
    )


@register.simple_tag(takes_context=True)
def narrow(context, key, value):
    """The current browse URL with one more filter (actor adds, the rest replace), back on
    page one."""
    params = context["request"].GET.copy()
    params.pop("pagina", None)
    if key == "actor":
        values = params.getlist("actor")
        params.setlist("actor", values if value in values else [*values, value])
    elif key == "year":
        params["van"], params["tot"] = f"{value}-01-01", f"{value}-12-31"
    else:
        params[key] = value
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def widen(context, key, value=None):
    """The current browse URL without one filter (or one actor)."""
    params = context["request"].GET.copy()
    params.pop("pagina", None)
    if key == "actor" and value is not None:
        params.setlist("actor", [v for v in params.getlist("actor") if v != value])
    else:
        params.pop(key, None)
    return "?" + params.urlencode()


@register.simple_tag(takes_context=True)
def page_url(context, number):
    params = context["request"].GET.copy()
    params["pagina"] = number
    return "?" + params.urlencode()


@register.filter
def get_item(mapping, key):
    return mapping.get(key)
