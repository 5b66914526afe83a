"""Django admin for editors: every model searchable and filterable, suggested links to
confirm or reject, and one list of who changed what."""

from functools import partial

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.db.models import Count, Exists, F, OuterRef
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html

from archive import tagging
from archive.forms import ArticleForm
from archive.models import Actor, Article, ArticleActor, ArticleEvent, Author, Event, Source
from archive.paste import paste_view
from archive.querysets import count_of
from archive.search import fold
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
    """A filter on one of possibly thousands of actors or events.

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

    def lookups(self, request, model_admin):
        choices = list(self.candidates()[:FILTER_CHOICES])
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
        actors = ArticleActor.objects.filter(article=OuterRef("pk"))
        open_ = Exists(actors.filter(confirmed=False)) | Exists(
            ArticleEvent.objects.filter(article=OuterRef("pk"), confirmed=False)
        )
        if self.value() == "open":
            return queryset.filter(open_)
        if self.value() == "bevestigd":
            return queryset.filter(Exists(actors)).exclude(open_)
        if self.value() == "zonder":
            return queryset.exclude(Exists(actors))
        return queryset


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


class LinkInline(admin.TabularInline):
    """Links from a piece to actors or events: suggested ones marked, rejection by
    deleting the row (ArticleAdmin.save_formset remembers it)."""

    extra = 0
    target = None  # the link's other end: "actor" or "event"

    def get_queryset(self, request):
        # Each row prints its link (actor and piece): fetch them with the rows.
        return super().get_queryset(request).select_related(self.target, "article")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
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
        ("source", admin.RelatedOnlyFieldListFilter),
        ArticleActorFilter,
        ArticleEventFilter,
    ]
    list_select_related = ["source"]
    date_hierarchy = "published_on"
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
        return (
            super()
            .get_queryset(request)
            .prefetch_related("authors")
            .annotate(
                actors_confirmed=count_of(ArticleActor, "article", confirmed=True),
                actors_suggested=count_of(ArticleActor, "article", confirmed=False),
                events_confirmed=count_of(ArticleEvent, "article", confirmed=True),
                events_suggested=count_of(ArticleEvent, "article", confirmed=False),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        # The same Dutch full-text search readers use, rather than LIKE over the body.
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False

    @admin.display(description="datum", ordering="published_on")
    def shown_date(self, article):
        # A piece known to the month shows "juni 2023", never a made-up first day.
        return precise_date(article)

    @admin.display(description="auteurs")
    def author_names(self, article):
        return ", ".join(author.name for author in article.authors.all()) or None

    @admin.display(
        description="koppelingen",
        ordering=(F("actors_suggested") + F("events_suggested")).desc(),
    )
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
        touched = set(actors.values_list("article", flat=True))
        touched |= set(events.values_list("article", flat=True))
        n_actors = actors.update(confirmed=True)
        n_events = events.update(confirmed=True)
        # A bulk update writes no history by itself; the editors' list of changes should
        # still say who confirmed what.
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


@admin.register(Actor)
class ActorAdmin(KroniekAdmin):
    list_display = ["name", "kind", "alias_list", "piece_tally", "public_link"]
    list_filter = ["kind"]
    search_fields = ["name", "slug", "aliases", "description"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["recheck_pieces"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pieces_confirmed=count_of(ArticleActor, "actor", confirmed=True),
                pieces_suggested=count_of(ArticleActor, "actor", confirmed=False),
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
        before = {
            fold(n) for n in [form.initial.get("name"), *form.initial.get("aliases", [])] if n
        }
        new_names = [n for n in dict.fromkeys(obj.names) if n.strip() and fold(n) not in before]
        if not new_names:
            return
        # Synchronous: one actor's names over the full-text index is quick, and the
        # editor learns at once what the new spelling found.
        found = tagging.recheck_actor(obj, names=new_names)
        label = "Nieuwe naam" if len(new_names) == 1 else "Nieuwe namen"
        names = ", ".join(f"“{n}”" for n in new_names)
        if found:
            text = f"{label} {names} gevonden in {_plural(found, 'stuk', 'stukken')}."
            self.message_user(request, text, messages.SUCCESS)
        else:
            self.message_user(request, f"{label} {names} in geen stuk gevonden.", messages.INFO)

    @admin.action(description="Stukken opnieuw nalopen", permissions=["change"])
    def recheck_pieces(self, request, queryset):
        total = 0
        actors = list(queryset)
        for actor in actors:
            found = tagging.recheck_actor(actor)
            total += found
            if found:
                self.log_change(request, actor, f"Stukken nagelopen: {found} gekoppeld.")
        self.message_user(
            request,
            f"{_plural(len(actors), 'actor', 'actoren')} nagelopen: "
            f"{_plural(total, 'stuk', 'stukken')} gekoppeld of bijgewerkt.",
            messages.SUCCESS,
        )


@admin.register(Event)
class EventAdmin(KroniekAdmin):
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
                pieces_confirmed=count_of(ArticleEvent, "event", confirmed=True),
                pieces_suggested=count_of(ArticleEvent, "event", confirmed=False),
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


@admin.register(Source)
class SourceAdmin(KroniekAdmin):
    list_display = ["name", "url", "piece_count", "public_link"]
    formfield_overrides = HTTPS_URLS
    search_fields = ["name", "slug", "url", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(pieces=count_of(Article, "source"))

    @admin.display(description="stukken", ordering="-pieces")
    def piece_count(self, source):
        url = reverse("admin:archive_article_changelist") + f"?source__id__exact={source.pk}"
        return format_html('<a href="{}">{}</a>', url, source.pieces)


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
            .annotate(pieces=count_of(Article.authors.through, "author"))
        )

    @admin.display(description="stukken", ordering="-pieces")
    def piece_count(self, author):
        return author.pieces


# History


@admin.register(LogEntry)
class LogEntryAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
