"""The browse form: validates whatever a reader (or a crawler) puts in the URL."""

from django import forms
from django.http import QueryDict

from archive.models import Actor, Author, Event, Genre, Source
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
