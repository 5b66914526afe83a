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
