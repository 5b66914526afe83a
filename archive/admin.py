"""Django admin for editors: every model searchable and filterable, suggested links to
confirm or reject, and one list of who changed what.

The list of pieces stays quick at a million pieces: it never counts them all (an
estimate, or "meer dan 1.000"), its filters offer choices without counting links and
probe links only for the pieces they read, its rows' link counts are counted for the
page alone, and a search draws at most one pool of the best matches.
"""

import datetime
from functools import cached_property, partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.postgres.expressions import ArraySubquery
from django.core.paginator import Paginator
from django.db import connection, models, transaction
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.lookups import IsNull
from django.urls import path, reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django_tasks_db.models import DBTaskResult

from archive import rechecks, tagging
from archive.forms import ArticleForm
from archive.models import (
    Actor,
    Article,
    ArticleActor,
    ArticleEvent,
    Author,
    Event,
    Recheck,
    Source,
)
from archive.paste import paste_view
from archive.search import Browse, Filters, fold
from archive.templatetags.kroniek import precise_date

admin.site.site_header = "Kroniek redactie"
admin.site.site_title = "Kroniek"
admin.site.index_title = "Archief beheren"

# An address pasted without a scheme is taken as https (Django 6's default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}
# Editing any of these can change which actors and events a piece is about.
TEXT_FIELDS = {"title", "lead", "body"}
# Filters over actors or events show this many choices (the most covered), not thousands.
FILTER_CHOICES = 12
# Up to this many pieces the source filter counts each source's pieces to pick the
# most covered; past it the planner's statistics say which are most common.
COUNT_PIECES_UP_TO = 50_000


def _plural(n, one, many):
    return f"{n} {one if n == 1 else many}"


def _tally(confirmed, suggested, url=None):
    """'5 bevestigd · 3 voorgesteld', the suggested part marked so it stands out."""
    if not confirmed and not suggested:
        return "geen"
    text = format_html("{} bevestigd", confirmed)
    if suggested:
        text = format_html(
            '{} · <span class="link-suggested">{} voorgesteld</span>', text, suggested
        )
    if url:
        return format_html('<a href="{}">{}</a>', url, text)
    return text


def _suggestions_message(suggested, *, below):
    """'3 actoren en 1 gebeurtenis voorgesteld', or None when nothing was suggested."""
    parts = []
    if suggested.actors:
        parts.append(_plural(suggested.actors, "actor", "actoren"))
    if suggested.events:
        parts.append(_plural(suggested.events, "gebeurtenis", "gebeurtenissen"))
    if not parts:
        return None
    text = " en ".join(parts) + " voorgesteld"
    return text + ("; bevestig of wijs af hieronder." if below else ".")


# Counting


def table_statistics(model, column=None):
    """(estimated rows, most common values of `column`, most common first) for the
    model's table, from the planner's statistics (kept by autovacuum's ANALYZE): no
    row is read. Rows are -1 and values None when the table was never analysed, values
    None too when `column` has no common values."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.reltuples::bigint, s.most_common_vals::text::bigint[]
            FROM pg_class c
            LEFT JOIN pg_stats s
                ON s.schemaname = current_schema() AND s.tablename = c.relname
                AND s.attname = %s
            WHERE c.oid = %s::regclass
            """,
            [column, connection.ops.quote_name(model._meta.db_table)],
        )
        rows, common = cursor.fetchone()
    return rows, common


def capped_count_of(model, by, cap=None):
    """Like querysets.count_of, but counting at most `cap` + 1 rows (default: the
    list's AdminPaginator.exact_up_to), so a row for a source of 200,000 pieces costs
    no more than one of 1,000. `capped` shows it."""
    cap = AdminPaginator.exact_up_to if cap is None else cap
    rows = model.objects.filter(**{by: OuterRef("pk")}).order_by().values("pk")[: cap + 1]
    return Func(ArraySubquery(rows), function="cardinality", output_field=IntegerField())


def capped(n: int, cap=None):
    """A count from capped_count_of, as shown: "meer dan 1.000" past the cap."""
    cap = AdminPaginator.exact_up_to if cap is None else cap
    return Estimate(cap, "meer dan") if n > cap else n


class Estimate(int):
    """A count that is not exact, shown as such ("ongeveer 1.000.000", "meer dan
    1.000"): an int, so the admin's paging arithmetic works on it unchanged, whose
    text is what every template prints."""

    def __new__(cls, value, prefix):
        estimate = super().__new__(cls, value)
        estimate.prefix = prefix
        return estimate

    def __str__(self):
        return f"{self.prefix} {number_format(int(self), force_grouping=True)}"


def rounded(n: int) -> int:
    """Three significant digits: an estimate should not look exact."""
    return round(n, 3 - len(str(n))) if n >= 1000 else n


class AdminPaginator(Paginator):
    """Counts at most `exact_up_to` rows, so a page of a million-row list costs no more
    than a page of a small one (archive/pagination.py does the same for readers).

    Unfiltered, the count is the planner's estimate of the table's rows; filtered, the
    rows are counted up to `exact_up_to` and beyond that it says "meer dan". Either
    way only the first `exact_up_to` rows have pages: deeper rows are reached by
    narrowing (a filter, a year, a search), as paging to row 500,000 would read all the
    rows before it. A count up to the cap reads about cap / (share of pieces matching)
    rows, so the cap bounds the cost of a filter that matches few pieces.
    """

    # As many as a reader's list (SEARCH_POOL_SIZE): ten pages of 100. Counting to
    # 10,000 cost ten times as much for a filter that matches few pieces.
    exact_up_to = 1_000
    # Set per request by ArticleAdmin.get_search_results: the search drew only the
    # best of more matches than one pool holds.
    more_than_shown = False

    @cached_property
    def count(self):
        queryset = self.object_list
        limit = self.exact_up_to
        if not queryset.query.where:
            rows, _ = table_statistics(queryset.model)
            if rows > limit:
                return Estimate(rounded(rows), "ongeveer")
        counted = queryset.order_by().values("pk")[: limit + 1].count()
        if counted > limit:
            return Estimate(limit, "meer dan")
        if self.more_than_shown:
            return Estimate(counted, "de beste")
        return counted

    @cached_property
    def num_pages(self):
        pages = super().num_pages
        if isinstance(self.count, Estimate):
            return min(pages, max(1, self.exact_up_to // self.per_page))
        return pages


class ReadOnly:
    """A list written by the archive itself (history, re-checks): to read, not to edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class KroniekAdmin(admin.ModelAdmin):
    """What every list here shares: the admin stylesheet and a link to the public page."""

    class Media:
        css = {"all": ["css/admin.css"]}

    @admin.display(description="op de site")
    def public_link(self, obj):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" title="{}">bekijk</a>',
            obj.get_absolute_url(),
            f"“{obj}” op de publieke site (nieuw tabblad)",
        )


# Filters


class ManyChoicesFilter(admin.SimpleListFilter):
    """A filter on one of possibly thousands of actors, events or sources.

    The choices are the few most covered plus the one selected, so the sidebar stays
    short; any other is one click away from its own list, whose piece count links here
    with the filter set.
    """

    related_model = None

    def candidates(self):
        """The related rows most worth offering, best first."""
        raise NotImplementedError

    def narrow(self, queryset, pk):
        raise NotImplementedError

    def most_covered(self):
        return list(self.candidates()[:FILTER_CHOICES])

    def lookups(self, request, model_admin):
        choices = self.most_covered()
        value = self.value()
        if value and value.isdigit() and all(str(obj.pk) != value for obj in choices):
            choices += list(self.related_model.objects.filter(pk=value))
        return [(str(obj.pk), str(obj)) for obj in choices]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not self.value().isdigit():
            # The admin's own answer to a bad filter: the list, with a notice.
            raise IncorrectLookupParameters(f"{self.parameter_name} is geen nummer")
        return self.narrow(queryset, int(self.value()))


class ArticleActorFilter(ManyChoicesFilter):
    title = "actor"
    parameter_name = "actor"
    related_model = Actor

    def candidates(self):
        # By the piece counts the link triggers keep: no link is counted here.
        return Actor.objects.most_covered(FILTER_CHOICES)

    def narrow(self, queryset, pk):
        return queryset.filter(pk__in=ArticleActor.objects.filter(actor=pk).values("article"))


class ArticleEventFilter(ManyChoicesFilter):
    title = "gebeurtenis"
    parameter_name = "gebeurtenis"
    related_model = Event

    def candidates(self):
        return Event.objects.with_piece_counts().filter(pieces__gt=0).order_by("-pieces", "name")

    def narrow(self, queryset, pk):
        return queryset.filter(pk__in=ArticleEvent.objects.filter(event=pk).values("article"))


class ArticleSourceFilter(ManyChoicesFilter):
    title = "bron"
    # The name Django's own source filter used, so links to it keep working.
    parameter_name = "source__id__exact"
    related_model = Source
    WITHOUT = "geen"

    def candidates(self):
        return (
            Source.objects.annotate(pieces=Count("articles"))
            .filter(pieces__gt=0)
            .order_by("-pieces", "name")
        )

    def most_covered(self):
        """Counted while the pieces are few; past COUNT_PIECES_UP_TO the planner's
        statistics name the most common sources, as counting would read every piece."""
        column = Article._meta.get_field("source").column
        rows, common = table_statistics(Article, column)
        if rows <= COUNT_PIECES_UP_TO or not common:
            return super().most_covered()
        ids = common[:FILTER_CHOICES]
        found = Source.objects.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]

    def lookups(self, request, model_admin):
        return [*super().lookups(request, model_admin), (self.WITHOUT, "zonder bron")]

    def queryset(self, request, queryset):
        if self.value() == self.WITHOUT:
            return queryset.filter(source__isnull=True)
        return super().queryset(request, queryset)

    def narrow(self, queryset, pk):
        return queryset.filter(source=pk)


class EventActorFilter(ManyChoicesFilter):
    title = "betrokken actor"
    parameter_name = "actor"
    related_model = Actor

    def candidates(self):
        return (
            Actor.objects.annotate(events=Count("event"))
            .filter(events__gt=0)
            .order_by("-events", "name")
        )

    def narrow(self, queryset, pk):
        return queryset.filter(actors=pk)


class SuggestionsFilter(admin.SimpleListFilter):
    """Where the editors' work is: pieces with suggestions still to confirm or reject."""

    title = "voorstellen"
    parameter_name = "voorstellen"

    def lookups(self, request, model_admin):
        return [
            ("open", "nog te beoordelen"),
            ("bevestigd", "alles bevestigd"),
            ("zonder", "zonder actoren"),
        ]

    def queryset(self, request, queryset):
        has_actor = first_link(ArticleActor)
        open_actor = first_link(ArticleActor, confirmed=False)
        open_event = first_link(ArticleEvent, confirmed=False)
        if self.value() == "open":
            return queryset.filter(IsNull(open_actor, False) | IsNull(open_event, False))
        if self.value() == "bevestigd":
            return queryset.filter(
                IsNull(has_actor, False), IsNull(open_actor, True), IsNull(open_event, True)
            )
        if self.value() == "zonder":
            # NOT EXISTS alone becomes an anti-join, which PostgreSQL runs as index
            # probes when such pieces are common and as one pass over the links when
            # they are rare; probing every piece would be slower in both cases.
            return queryset.exclude(Exists(ArticleActor.objects.filter(article=OuterRef("pk"))))
        return queryset


def first_link(model, **conditions):
    """The piece's first link of `model` meeting `conditions`, or NULL.

    Asked per piece, and only for the pieces a page or a capped count reads: a scalar
    subquery probes the link index. EXISTS combined with OR or NOT is planned as a hash
    of every matching link in the archive (a million suggestions) before the first row.
    """
    links = model.objects.filter(article=OuterRef("pk"), **conditions).order_by()
    return Subquery(links.values("pk")[:1])


class OngoingFilter(admin.SimpleListFilter):
    title = "looptijd"
    parameter_name = "afgelopen"

    def lookups(self, request, model_admin):
        return [("nee", "nog gaande"), ("ja", "afgelopen")]

    def queryset(self, request, queryset):
        if self.value() == "nee":
            return queryset.filter(end_date__isnull=True)
        if self.value() == "ja":
            return queryset.filter(end_date__isnull=False)
        return queryset


# Pieces and their links


class LinkForm(forms.ModelForm):
    """A link row whose actor or event picker shows the row's own actor or event, as
    fetched with the rows (LinkInline.get_queryset), instead of looking it up again:
    one query per row otherwise, and a piece may have dozens of links."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if not isinstance(widget, KnownChoiceAutocomplete):
                continue
            model_field = self._meta.model._meta.get_field(name)
            if self.instance.pk and model_field.is_cached(self.instance):
                related = getattr(self.instance, name)
                widget.known = (related.pk, field.label_from_instance(related))


class KnownChoiceAutocomplete(AutocompleteSelect):
    known = None  # (pk, label) of the row's current choice, when LinkForm knows it

    def optgroups(self, name, value, attr=None):
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not self.known or chosen != [str(self.known[0])]:
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        pk, label = self.known
        options.append(self.create_option(name, pk, label, True, len(options)))
        return [(None, options, 0)]


class LinkInline(admin.TabularInline):
    """Links from a piece to actors or events: suggested ones marked, rejection by
    deleting the row (ArticleAdmin.save_formset remembers it)."""

    extra = 0
    target = None  # the link's other end: "actor" or "event"
    form = LinkForm

    def get_queryset(self, request):
        # Each row prints its link (actor and piece): fetch them with the rows.
        return super().get_queryset(request).select_related(self.target, "article")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == self.target:
            kwargs["widget"] = KnownChoiceAutocomplete(db_field, self.admin_site)
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == self.target:
            # Creating a missing actor from here is daily work; editing one from inside
            # a piece's form is not, and the extra icons crowd the row.
            field.widget.can_change_related = False
            field.widget.can_delete_related = False
        if db_field.name == "confirmed":
            # A link an editor adds by hand is one they vouch for; suggestions are
            # stored unconfirmed by archive.tagging, not through this form.
            field.initial = True
        return field

    @admin.display(description="status")
    def status(self, link):
        if link.pk is None:
            return None
        state = "confirmed" if link.confirmed else "suggested"
        label = "bevestigd" if link.confirmed else "voorgesteld"
        return format_html('<span class="link-{}">{}</span>', state, label)


class ArticleActorInline(LinkInline):
    model = ArticleActor
    target = "actor"
    fields = ["actor", "mentions", "status", "confirmed"]
    readonly_fields = ["mentions", "status"]
    autocomplete_fields = ["actor"]
    ordering = ["-mentions", "actor__name"]


class ArticleEventInline(LinkInline):
    model = ArticleEvent
    target = "event"
    fields = ["event", "evidence", "status", "confirmed"]
    readonly_fields = ["evidence", "status"]
    autocomplete_fields = ["event"]
    ordering = ["event__start_date", "event__name"]


# Per link model: its field naming the actor or event, and the piece's rejected list.
REJECTIONS = {
    ArticleActor: ("actor", "rejected_actors"),
    ArticleEvent: ("event", "rejected_events"),
}


def add_link_tallies(articles) -> None:
    """Set actors_confirmed, actors_suggested, events_confirmed and events_suggested on
    each piece, counted for these pieces in one query. Counted in the list's own query
    they would be computed for every row an OFFSET skips, too."""
    ids = [article.pk for article in articles]
    if not ids:
        return

    def tally(model, kind):
        return (
            model.objects.filter(article__in=ids)
            .order_by()
            .values("article")
            .annotate(
                kind=Value(kind),
                n_confirmed=Count("pk", filter=Q(confirmed=True)),
                n_suggested=Count("pk", filter=Q(confirmed=False)),
            )
            .values_list("article", "kind", "n_confirmed", "n_suggested")
        )

    rows = tally(ArticleActor, "actors").union(tally(ArticleEvent, "events"), all=True)
    counts = {(pk, kind): (confirmed, suggested) for pk, kind, confirmed, suggested in rows}
    for article in articles:
        for kind in ("actors", "events"):
            confirmed, suggested = counts.get((article.pk, kind), (0, 0))
            setattr(article, f"{kind}_confirmed", confirmed)
            setattr(article, f"{kind}_suggested", suggested)


class ArticleChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        add_link_tallies(self.result_list)

    def get_ordering_field(self, field_name):
        # Django's sortable_by only hides the other columns' sort links; ?o= in the
        # address would still sort by them.
        if field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if ordering == ["-pk"]:  # ?o= named only columns that do not sort
            return list(self.model._meta.ordering)
        # Oldest first, Django breaks ties by "-pk"; by "pk" the date index (newest
        # first, both columns descending) serves it scanned backwards, with no sort.
        if ordering[:1] == ["published_on"] and ordering[-1] == "-pk":
            ordering[-1] = "pk"
        return ordering

    @cached_property
    def date_levels(self):
        """What the date hierarchy above the list offers, as Django's date_hierarchy
        tag returns it, without its DISTINCT over every piece's date: years come from
        the archive's first and last date (two index probes) and a year's months are
        all its months in that span. Only a month's days are looked up, among the
        pieces of that month."""
        field = self.date_hierarchy
        year_field, month_field, day_field = (f"{field}__{p}" for p in ("year", "month", "day"))
        year, month, day = (self.params.get(f) for f in (year_field, month_field, day_field))

        def link(filters):
            return self.get_query_string(filters, [f"{field}__"])

        bounds = self.model._default_manager.aggregate(first=Min(field), last=Max(field))
        first, last = bounds["first"], bounds["last"]
        if first is None:
            return {"show": False}
        if not year and first.year == last.year:
            year = first.year
        if year and month and day:
            date = datetime.date(int(year), int(month), int(day))
            return {
                "show": True,
                "back": {
                    "link": link({year_field: year, month_field: month}),
                    "title": capfirst(date_format(date, "YEAR_MONTH_FORMAT")),
                },
                "choices": [{"title": capfirst(date_format(date, "MONTH_DAY_FORMAT"))}],
            }
        if year and month:
            days = self.queryset.dates(field, "day")
            return {
                "show": True,
                "back": {"link": link({year_field: year}), "title": str(year)},
                "choices": [
                    {
                        "link": link({year_field: year, month_field: month, day_field: d.day}),
                        "title": capfirst(date_format(d, "MONTH_DAY_FORMAT")),
                    }
                    for d in days
                ],
            }
        if year:
            year = int(year)
            months = [
                datetime.date(year, m, 1)
                for m in range(1, 13)
                if (first.year, first.month) <= (year, m) <= (last.year, last.month)
            ]
            return {
                "show": True,
                "back": {"link": link({}), "title": "Alle datums"},
                "choices": [
                    {
                        "link": link({year_field: year, month_field: m.month}),
                        "title": capfirst(date_format(m, "YEAR_MONTH_FORMAT")),
                    }
                    for m in months
                ],
            }
        return {
            "show": True,
            "back": None,
            "choices": [
                {"link": link({year_field: str(y)}), "title": str(y)}
                for y in range(first.year, last.year + 1)
            ],
        }


@admin.register(Article)
class ArticleAdmin(KroniekAdmin):
    list_display = [
        "title",
        "shown_date",
        "genre",
        "source",
        "author_names",
        "link_tally",
        "public_link",
    ]
    list_display_links = ["title"]
    list_filter = [
        SuggestionsFilter,
        ("published_on", admin.DateFieldListFilter),
        "genre",
        "date_precision",
        ArticleSourceFilter,
        ArticleActorFilter,
        ArticleEventFilter,
    ]
    list_select_related = ["source"]
    # Years and months come from the first and last date, not from a DISTINCT over
    # every piece (ArticleChangeList.date_levels, templates/admin/archive/article/).
    date_hierarchy = "published_on"
    paginator = AdminPaginator
    # Django would count the whole table again for "(1.000.000 totaal)".
    show_full_result_count = False
    # Facet counts are one COUNT per filter choice over the filtered pieces.
    show_facets = admin.ShowFacets.NEVER
    # Only the date has an index to sort by (both ways); sorting a million pieces by
    # headline, or by a count computed per piece, reads them all.
    sortable_by = ["shown_date"]
    # Only makes the search box appear: get_search_results does the searching.
    search_fields = ["title"]
    search_help_text = "Zoekt in kop, intro en tekst zoals de lezers zoeken."
    autocomplete_fields = ["source", "authors", "rejected_actors", "rejected_events"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["content_hash", "created_at", "updated_at"]
    inlines = [ArticleActorInline, ArticleEventInline]
    form = ArticleForm
    actions = ["confirm_suggestions"]
    view_on_site = True
    formfield_overrides = HTTPS_URLS
    fieldsets = [
        (None, {"fields": ["title", "slug", "lead", "body"]}),
        (
            "Herkomst",
            {"fields": ["genre", "published_on", "date_precision", "source", "authors", "url"]},
        ),
        (
            "Afgewezen voorstellen",
            {
                "fields": ["rejected_actors", "rejected_events"],
                "classes": ["collapse"],
                "description": (
                    "Actoren en gebeurtenissen die hier niet meer worden voorgesteld. "
                    "Een voorstel afwijzen doet u door het hieronder te verwijderen; "
                    "haal het hier weg om die keuze ongedaan te maken."
                ),
            },
        ),
        (
            "Beheer",
            {"fields": ["content_hash", "created_at", "updated_at"], "classes": ["collapse"]},
        ),
    ]

    def get_urls(self):
        paste = self.admin_site.admin_view(partial(paste_view, self))
        return [
            path("plakken/", paste, name="archive_article_paste"),
            *super().get_urls(),
        ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        # Only a new piece can be a near copy of one already in the archive.
        (name, options), *rest = fieldsets
        fields = [*options["fields"], "keep_near_duplicate"]
        return [(name, {**options, "fields": fields}), *rest]

    def get_queryset(self, request):
        # The link counts each row shows are added for the page's rows alone
        # (ArticleChangeList.get_results), not computed in this query.
        return super().get_queryset(request).prefetch_related("authors")

    def get_changelist(self, request, **kwargs):
        return ArticleChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        paginator.more_than_shown = getattr(request, "search_more_than_shown", False)
        return paginator

    def get_search_results(self, request, queryset, search_term):
        """The same Dutch full-text search readers use (stemming, every spelling of an
        actor, compounds, `-word`), rather than LIKE over the body: the best matches
        first, at most one pool of them (SEARCH_POOL_SIZE), drawn through the
        full-text indexes."""
        if not search_term.strip():
            return queryset, False
        found = Browse(Filters(q=search_term), queryset=queryset)
        request.search_more_than_shown = not found.complete
        results = found.results
        if ORDER_VAR in request.GET:
            # A column the editor sorted by; the search's own order is best first.
            results = results.order_by(*queryset.query.order_by)
        return results, False

    @admin.display(description="datum", ordering="published_on")
    def shown_date(self, article):
        # A piece known to the month shows "juni 2023", never a made-up first day.
        return precise_date(article)

    @admin.display(description="auteurs")
    def author_names(self, article):
        return ", ".join(author.name for author in article.authors.all()) or None

    @admin.display(description="koppelingen")
    def link_tally(self, article):
        """Actor and event links together (the list has no room for two columns), with
        each apart in the tooltip."""
        detail = (
            "actoren: {} bevestigd, {} voorgesteld; gebeurtenissen: {} bevestigd, {} voorgesteld"
        )
        return format_html(
            '<span title="{}">{}</span>',
            detail.format(
                article.actors_confirmed,
                article.actors_suggested,
                article.events_confirmed,
                article.events_suggested,
            ),
            _tally(
                article.actors_confirmed + article.events_confirmed,
                article.actors_suggested + article.events_suggested,
            ),
        )

    @admin.action(description="Alle voorstellen bevestigen", permissions=["change"])
    def confirm_suggestions(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        actors = ArticleActor.objects.filter(article__in=ids, confirmed=False)
        events = ArticleEvent.objects.filter(article__in=ids, confirmed=False)
        # All or nothing: actions run outside the admin's transaction, and a connection
        # lost halfway would leave the actors confirmed, the events not, and no history.
        with transaction.atomic():
            touched = set(actors.values_list("article", flat=True))
            touched |= set(events.values_list("article", flat=True))
            n_actors = actors.update(confirmed=True)
            n_events = events.update(confirmed=True)
            # A bulk update writes no history by itself; the editors' list of changes
            # should still say who confirmed what.
            for article in Article.objects.filter(pk__in=touched):
                self.log_change(request, article, "Alle voorstellen bevestigd.")
        if not n_actors and not n_events:
            self.message_user(request, "Er waren geen voorstellen te bevestigen.", messages.INFO)
            return
        self.message_user(
            request,
            f"{_plural(n_actors, 'actor', 'actoren')} en "
            f"{_plural(n_events, 'gebeurtenis', 'gebeurtenissen')} bevestigd "
            f"in {_plural(len(touched), 'stuk', 'stukken')}.",
            messages.SUCCESS,
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model not in REJECTIONS:
            return
        field, rejected_name = REJECTIONS[formset.model]
        attname = formset.model._meta.get_field(field).attname
        # Deleting a link is rejecting it, so re-checks do not suggest it again; so is
        # switching a row to another actor. Linking one by hand takes it back.
        dropped = {getattr(link, attname) for link in formset.deleted_objects}
        for row in formset.initial_forms:
            if row not in formset.deleted_forms and field in row.changed_data:
                dropped.add(row.initial[field])
        added = {getattr(link, attname) for link in formset.new_objects}
        added |= {
            getattr(link, attname) for link, changed in formset.changed_objects if field in changed
        }
        rejected = getattr(form.instance, rejected_name)
        if dropped - added:
            rejected.add(*(dropped - added))
        if added:
            rejected.remove(*added)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if change and not TEXT_FIELDS & set(form.changed_data):
            return
        suggested = tagging.apply_suggestions(article)
        # response_add / response_change read it to keep the editor on this piece.
        article.suggested_now = suggested
        text = _suggestions_message(suggested, below=True)
        if text:
            self.message_user(request, text, messages.INFO)
        elif not change:
            self.message_user(
                request,
                "Geen actoren of gebeurtenissen herkend in de tekst; voeg ze zo nodig "
                "met de hand toe.",
                messages.WARNING,
            )

    def _stay_on_piece(self, request, article):
        """Show the piece again after a plain save that made suggestions: they are
        waiting for the editor's judgement, which the list of pieces would hide."""
        suggested = getattr(article, "suggested_now", None)
        plain_save = not {"_continue", "_addanother", "_saveasnew", "_popup"} & set(request.POST)
        if plain_save and suggested and (suggested.actors or suggested.events):
            # Handled exactly as "Opslaan en opnieuw bewerken".
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"

    def response_add(self, request, obj, post_url_continue=None):
        self._stay_on_piece(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        self._stay_on_piece(request, obj)
        return super().response_change(request, obj)


# Actors, events, authors, sources


def _new_names_label(new: list[str], names: list[str]) -> str:
    """What an editor added to an actor, for the message: "Nieuwe naam", "Nieuwe
    afgeleide vormen", or both."""
    forms = [n for n in new if n not in names]
    if not forms:
        return "Nieuwe naam" if len(new) == 1 else "Nieuwe namen"
    if len(forms) == len(new):
        return "Nieuwe afgeleide vorm" if len(new) == 1 else "Nieuwe afgeleide vormen"
    return "Nieuwe namen en afgeleide vormen"


class RecheckStatus:
    """The read-only field *Nalopen* on an actor's or event's page: its unfinished
    re-checks and how far each is (archive/rechecks.py)."""

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "recheck_status"]

    @admin.display(description="nalopen")
    def recheck_status(self, subject):
        if subject is None or subject.pk is None:
            return "–"
        running = rechecks.running_for(subject)
        if not running:
            return "geen"
        return "; ".join(f"{r.reason}: {r.progress}" for r in running)


@admin.register(Actor)
class ActorAdmin(RecheckStatus, KroniekAdmin):
    list_display = ["name", "kind", "alias_list", "piece_tally", "public_link"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "aliases", "derived_forms", "description"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["recheck_pieces"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                # The counts the link triggers keep (migration 0004): sorting actors by
                # them counts no links.
                pieces_confirmed=F("piece_count") - F("suggested_count"),
                pieces_suggested=F("suggested_count"),
            )
        )

    @admin.display(description="andere namen")
    def alias_list(self, actor):
        return ", ".join(actor.aliases)

    @admin.display(description="stukken", ordering="-pieces_confirmed")
    def piece_tally(self, actor):
        url = reverse("admin:archive_article_changelist") + f"?actor={actor.pk}"
        return _tally(actor.pieces_confirmed, actor.pieces_suggested, url)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # form.initial holds the stored row as the editor opened it (empty when new).
        stored = [
            form.initial.get("name"),
            *form.initial.get("aliases", []),
            *form.initial.get("derived_forms", []),
        ]
        before = {fold(n) for n in stored if n}
        new_names = [
            n
            for n in dict.fromkeys([*obj.names, *obj.derived_forms])
            if n.strip() and fold(n) not in before
        ]
        kind_changed = change and "kind" in form.changed_data
        if not new_names and not kind_changed:
            return
        # In the background: a name in a tenth of a million pieces would keep the
        # editor waiting past the server's timeout (archive/rechecks.py).
        if kind_changed:
            reason = f"soort nu {obj.get_kind_display()}"
            rechecks.queue(reason, actor=obj)
            label = "De soort is veranderd"
        else:
            label = _new_names_label(new_names, obj.names)
            names = ", ".join(f"“{n}”" for n in new_names)
            rechecks.queue(f"{label.lower()} {names}", actor=obj, names=new_names)
            label = f"{label} {names}"
        self.message_user(request, f"{label}: {QUEUED_MESSAGE}", messages.SUCCESS)

    @admin.action(description="Stukken opnieuw nalopen", permissions=["change"])
    def recheck_pieces(self, request, queryset):
        actors = list(queryset)
        for actor in actors:
            rechecks.queue("met de hand gevraagd", actor=actor)
            self.log_change(request, actor, "Stukken opnieuw nalopen gevraagd.")
        self.message_user(
            request,
            f"{_plural(len(actors), 'actor', 'actoren')} worden nagelopen op de achtergrond; "
            "de voortgang staat onder Nalooptaken.",
            messages.SUCCESS,
        )


QUEUED_MESSAGE = (
    "het archief loopt de stukken op de achtergrond na. Hoe ver het is, staat hier onder "
    "‘nalopen’ en bij Nalooptaken."
)


# The task queue's own list shows arguments and tracebacks; editors and operators read
# the re-checks (what, how far, why it failed) in the list below.
admin.site.unregister(DBTaskResult)


@admin.register(Recheck)
class RecheckAdmin(ReadOnly, admin.ModelAdmin):
    """What re-checks ran and run: read only, written by archive/rechecks.py."""

    list_display = ["created_at", "subject", "reason", "status", "progress", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["actor", "event"]
    search_fields = ["reason", "actor__name", "event__name"]

    @admin.display(description="actor of gebeurtenis")
    def subject(self, recheck):
        return recheck.actor or recheck.event

    @admin.display(description="voortgang")
    def progress(self, recheck):
        return recheck.progress


@admin.register(Event)
class EventAdmin(RecheckStatus, KroniekAdmin):
    list_display = ["name", "dates", "piece_tally", "public_link"]
    list_filter = [OngoingFilter, EventActorFilter]
    search_fields = ["name", "slug", "description", "signal_words"]
    date_hierarchy = "start_date"
    autocomplete_fields = ["actors"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pieces_confirmed=F("piece_count") - F("suggested_count"),
                pieces_suggested=F("suggested_count"),
            )
        )

    @admin.display(description="datum", ordering="start_date")
    def dates(self, event):
        start = date_format(event.start_date, "j F Y")
        if event.end_date is None:
            return f"sinds {start}"
        if event.end_date == event.start_date:
            return start
        return f"{start} – {date_format(event.end_date, 'j F Y')}"

    @admin.display(description="stukken", ordering="-pieces_confirmed")
    def piece_tally(self, event):
        url = reverse("admin:archive_article_changelist") + f"?gebeurtenis={event.pk}"
        return _tally(event.pieces_confirmed, event.pieces_suggested, url)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # What decides the suggestions: the signal words, the dates, the actors.
        changed = [
            str(form.fields[name].label)
            for name in ("signal_words", "start_date", "end_date", "actors")
            if name in form.changed_data
        ]
        if not changed or not form.instance.signal_words:
            return
        rechecks.queue(", ".join(changed) + " gewijzigd", event=form.instance)
        self.message_user(
            request, f"{capfirst(', '.join(changed))} gewijzigd: {QUEUED_MESSAGE}", messages.SUCCESS
        )


@admin.register(Source)
class SourceAdmin(KroniekAdmin):
    list_display = ["name", "url", "piece_count", "public_link"]
    formfield_overrides = HTTPS_URLS
    search_fields = ["name", "slug", "url", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(pieces=capped_count_of(Article, "source"))

    # Not sortable: sorting sources by their pieces would count every piece.
    @admin.display(description="stukken")
    def piece_count(self, source):
        url = reverse("admin:archive_article_changelist") + f"?source__id__exact={source.pk}"
        return format_html('<a href="{}">{}</a>', url, capped(source.pieces))


@admin.register(Author)
class AuthorAdmin(KroniekAdmin):
    list_display = ["name", "actor", "piece_count", "public_link"]
    list_filter = [("actor", admin.EmptyFieldListFilter)]
    list_select_related = ["actor"]
    search_fields = ["name", "slug", "bio"]
    autocomplete_fields = ["actor"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(pieces=capped_count_of(Article.authors.through, "author"))
        )

    @admin.display(description="stukken")
    def piece_count(self, author):
        return capped(author.pieces)


# History


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly, admin.ModelAdmin):
    """Who changed what, across the archive; each object's own history page shows the
    same entries for that object. Read-only: the record is only worth what it cannot
    be edited."""

    list_display = ["action_time", "user", "action", "object_link", "content_type", "message"]
    list_filter = [
        ("user", admin.RelatedOnlyFieldListFilter),
        "action_flag",
        ("content_type", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["user", "content_type"]
    search_fields = ["object_repr", "change_message", "user__username", "user__last_name"]
    search_help_text = "Zoekt in de naam van het object, de wijziging en de gebruiker."
    date_hierarchy = "action_time"
    ordering = ["-action_time"]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Wijzigingen", **(extra_context or {})})

    @admin.display(description="actie", ordering="action_flag")
    def action(self, entry):
        if entry.is_addition():
            return "toegevoegd"
        if entry.is_deletion():
            return "verwijderd"
        return "gewijzigd"

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, entry):
        url = None if entry.is_deletion() else entry.get_admin_url()
        if url:
            return format_html('<a href="{}">{}</a>', url, entry.object_repr)
        return entry.object_repr

    @admin.display(description="wijziging")
    def message(self, entry):
        return entry.get_change_message()
