"""Forms: the browse form, which validates whatever a reader (or a crawler) puts in the
URL, and the admin's form for a piece, which keeps duplicates out."""

from django import forms
from django.conf import settings
from django.db import models
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html

from archive.duplicates import find_duplicate
from archive.models import Actor, Article, Author, Event, Genre, Source
from archive.search import MAX_QUERY_LENGTH, Filters, clean_query

DATE_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"]
SORTS = [("relevance", "relevantie"), ("newest", "nieuwste eerst"), ("oldest", "oudste eerst")]


def clean_params(params: QueryDict) -> QueryDict:
    """Control characters and NUL bytes out of every value before anything sees them:
    PostgreSQL cannot store NUL, and no slug or date contains either."""
    cleaned = QueryDict(mutable=True)
    for key in params:
        cleaned.setlist(key, [clean_query(value) for value in params.getlist(key)[:20]])
    return cleaned


class BrowseForm(forms.Form):
    q = forms.CharField(label="Zoeken", required=False, strip=True)
    actor = forms.ModelMultipleChoiceField(
        Actor.objects.all(), to_field_name="slug", required=False, label="Actoren"
    )
    event = forms.ModelChoiceField(
        Event.objects.all(), to_field_name="slug", required=False, label="Gebeurtenis"
    )
    source = forms.ModelChoiceField(
        Source.objects.all(), to_field_name="slug", required=False, label="Bron"
    )
    author = forms.ModelChoiceField(
        Author.objects.all(), to_field_name="slug", required=False, label="Auteur"
    )
    genre = forms.ChoiceField(
        choices=[("", "alle genres"), *Genre.choices], required=False, label="Genre"
    )
    van = forms.DateField(required=False, input_formats=DATE_FORMATS, label="Van")
    tot = forms.DateField(required=False, input_formats=DATE_FORMATS, label="Tot en met")
    sort = forms.ChoiceField(choices=SORTS, required=False, label="Sorteren")

    def __init__(self, data=None, **kwargs):
        self.raw_query = (data or {}).get("q", "")
        super().__init__(clean_params(data) if data is not None else None, **kwargs)

    @property
    def was_cut(self) -> bool:
        return len(" ".join(self.raw_query.split())) > MAX_QUERY_LENGTH

    @property
    def problems(self) -> list[str]:
        """Each invalid filter as '<label>: <why>', for the notice above the results."""
        labels = {name: field.label for name, field in self.fields.items()}
        return [
            f"{labels.get(name, 'Zoekopdracht')}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        ]

    def clean(self):
        data = super().clean()
        if data.get("van") and data.get("tot") and data["van"] > data["tot"]:
            self.add_error("tot", "De einddatum ligt voor de begindatum.")
        return data

    def filters(self) -> Filters:
        """The valid part of the request: a bad filter is reported and left out, the rest
        still applies."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = self.cleaned_data
        return Filters(
            q=data.get("q", ""),
            actors=list(data.get("actor") or []),
            event=data.get("event"),
            source=data.get("source"),
            author=data.get("author"),
            genre=data.get("genre", ""),
            start=data.get("van"),
            end=data.get("tot"),
            sort=data.get("sort", ""),
        )


def thousands(n: int) -> str:
    """1234567 -> '1.234.567', as Dutch readers write numbers."""
    return f"{n:,}".replace(",", ".")


def max_chars(limit: int, what: str, advice: str = ""):
    """A validator refusing text over `limit` characters, saying how long it is and
    what to do. Not max_length: its maxlength attribute would have the browser cut a
    pasted piece off unseen."""

    def validate(value):
        if len(value) > limit:
            raise forms.ValidationError(too_long(what, len(value), limit, advice))

    return validate


def too_long(what: str, length: int, limit: int, advice: str = "") -> str:
    """'Tekst is 250.312 tekens lang; er passen er ten hoogste 200.000.' and the advice."""
    text = (
        f"{what} is {thousands(length)} tekens lang; er passen er ten hoogste {thousands(limit)}."
    )
    return f"{text} {advice}" if advice else text


# Per field of a piece: its limit and what to do about a text over it.
PIECE_LIMITS = {
    "lead": ("MAX_LEAD_CHARS", "Kort de intro in."),
    "body": ("MAX_PIECE_CHARS", "Kort de tekst in of verdeel hem over meer stukken."),
}


def _https_urls(field, **kwargs):
    # An address pasted without a scheme is taken as https (Django 6's default).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class ArticleForm(forms.ModelForm):
    """The admin's form for a piece: refuses a text the archive already holds, and a
    nearly identical one unless the editor says it is a piece of its own."""

    keep_near_duplicate = forms.BooleanField(
        label="Toch opslaan als apart stuk",
        required=False,
        help_text="Alleen als dit echt een ander stuk is dan het bijna gelijke stuk dat "
        "hierboven genoemd wordt.",
    )

    class Meta:
        model = Article
        formfield_callback = _https_urls
        # The admin narrows these to its fieldsets; the paste view to its draft fields.
        fields = [
            *("title", "slug", "lead", "body", "genre", "published_on", "date_precision"),
            *("source", "authors", "url", "rejected_actors", "rejected_events"),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (setting, advice) in PIECE_LIMITS.items():
            if name in self.fields:
                field = self.fields[name]
                limit = getattr(settings, setting)
                field.validators.append(max_chars(limit, str(field.label).capitalize(), advice))

    def clean_body(self):
        # Browsers send a textarea with CRLF line ends; stored text uses LF throughout.
        return self.cleaned_data["body"].replace("\r\n", "\n").replace("\r", "\n")

    def clean(self):
        cleaned = super().clean()
        body = cleaned.get("body")
        self.duplicate = None
        # An unchanged text was judged when it came in: a near copy kept on purpose must
        # not block every later edit of the piece.
        if not body or (self.instance.pk and "body" not in self.changed_data):
            return cleaned
        self.duplicate = find_duplicate(body, exclude_pk=self.instance.pk)
        # When editing, only an exact copy of another piece is refused.
        near_allowed = self.instance.pk or cleaned.get("keep_near_duplicate")
        if self.duplicate and (self.duplicate.exact or not near_allowed):
            self.add_error("body", duplicate_message(self.duplicate))
        return cleaned


def duplicate_message(duplicate) -> str:
    url = reverse("admin:archive_article_change", args=[duplicate.article.pk])
    if duplicate.exact:
        return format_html(
            "Deze tekst staat al in het archief: <a href='{}'>{}</a>.", url, duplicate.article
        )
    return format_html(
        "Deze tekst lijkt sterk op <a href='{}'>{}</a> ({} gelijk). Is het toch een ander "
        "stuk, vink dan ‘Toch opslaan als apart stuk’ aan.",
        url,
        duplicate.article,
        f"{duplicate.similarity:.0%}",
    )
