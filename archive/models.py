"""The archive's data: pieces (Article) and who and what they are about."""

import calendar
import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Func, Q, Value
from django.db.models.functions import MD5, Lower
from django.urls import reverse
from django.utils.text import slugify

from archive.querysets import (
    AFTER,
    BEFORE,
    DURING,
    ActorManager,
    ArticleManager,
    EventManager,
    LinkManager,
    SlugManager,
)


class SlugNaturalKey:
    def natural_key(self):
        return (self.slug,)


def slug_base(text: str, max_length: int = 200) -> str:
    """The slug a text gets before a number makes it unique (room left for "-NNNNNNN")."""
    return slugify(text)[: max_length - 8].strip("-") or "stuk"


def unique_slug(model, text: str, max_length: int = 200) -> str:
    base = slug_base(text, max_length)
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class Source(SlugNaturalKey, models.Model):
    name = models.CharField("naam", max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    url = models.URLField("website", blank=True)
    description = models.TextField("beschrijving", blank=True)

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "bron"
        verbose_name_plural = "bronnen"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:source", kwargs={"slug": self.slug})


class Actor(SlugNaturalKey, models.Model):
    """A person, organisation, country or place that pieces are about."""

    class Kind(models.TextChoices):
        PERSON = "person", "persoon"
        ORGANISATION = "organisation", "organisatie"
        COUNTRY = "country", "land"
        PLACE = "place", "plaats"
        MEDIA = "media", "medium"

    name = models.CharField("naam", max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField("soort", max_length=20, choices=Kind.choices, default=Kind.PERSON)
    aliases = ArrayField(
        models.CharField(max_length=200),
        verbose_name="andere namen",
        default=list,
        blank=True,
        help_text="Andere spellingen en transliteraties (Putin, Путин), gescheiden door komma's.",
    )
    # Adjectives and demonyms find the actor in text ("de Russische inval") but are
    # not its names: a search for one of them expands only to its siblings.
    derived_forms = ArrayField(
        models.CharField(max_length=200),
        verbose_name="afgeleide vormen",
        default=list,
        blank=True,
        help_text=(
            "Bijvoeglijke naamwoorden en inwonersnamen (Russisch, Russische, Rus, Russen), "
            "gescheiden door komma's."
        ),
    )
    description = models.TextField("beschrijving", blank=True)
    # How many pieces are linked to the actor, and how many of those links are only
    # suggested: kept by triggers on archive_articleactor (migration 0004), so pages
    # never count a popular actor's 200,000 links.
    piece_count = models.PositiveIntegerField("stukken", default=0, editable=False)
    suggested_count = models.PositiveIntegerField("voorgesteld", default=0, editable=False)

    objects = ActorManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "actor"
        verbose_name_plural = "actoren"
        indexes = [
            # Alias lookups: "which actor is called Putin?" (aliases @> ARRAY['Putin']).
            GinIndex(fields=["aliases"], name="actor_aliases_gin"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:actor", kwargs={"slug": self.slug})

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]

    @property
    def match_names(self) -> list[str]:
        """The strings that find this actor in text: every name and alias, and for a
        person also the surname alone, since pieces mostly say "Poetin", not "Vladimir
        Poetin"; then the derived forms ("de Russische kant" is about Rusland). Search
        (alias expansion) and tagging (suggestions) share it, and both treat the derived
        forms (match_forms) as weaker evidence than the names."""
        return [*self._matched_names(), *self.match_forms]

    @property
    def match_forms(self) -> list[str]:
        """The derived forms among match_names: adjectives and demonyms, not names."""
        names = set(self._matched_names())
        forms = (f.strip() for f in self.derived_forms if f and f.strip())
        return [f for f in dict.fromkeys(forms) if f not in names]

    def _matched_names(self) -> list[str]:
        names = [n.strip() for n in self.names if n and n.strip()]
        if self.kind == self.Kind.PERSON:
            names += [n.split()[-1] for n in names if len(n.split()) > 1]
        return list(dict.fromkeys(names))


class Author(SlugNaturalKey, models.Model):
    name = models.CharField("naam", max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    bio = models.TextField("over de auteur", blank=True)
    # Someone who writes pieces can also be written about (Derk Sauer).
    actor = models.OneToOneField(
        Actor,
        verbose_name="ook actor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author",
    )

    objects = SlugManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "auteur"
        verbose_name_plural = "auteurs"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:author", kwargs={"slug": self.slug})


class Event(SlugNaturalKey, models.Model):
    name = models.CharField("naam", max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    start_date = models.DateField("begin")
    end_date = models.DateField("einde", null=True, blank=True)
    description = models.TextField("beschrijving", blank=True)
    actors = models.ManyToManyField(Actor, verbose_name="betrokken actoren", blank=True)
    signal_words = ArrayField(
        models.CharField(max_length=100),
        verbose_name="signaalwoorden",
        default=list,
        blank=True,
        help_text="Woorden die erop wijzen dat een stuk over deze gebeurtenis gaat.",
    )
    # Kept by triggers on archive_articleevent (migration 0004), as for actors.
    piece_count = models.PositiveIntegerField("stukken", default=0, editable=False)
    suggested_count = models.PositiveIntegerField("voorgesteld", default=0, editable=False)

    objects = EventManager()

    class Meta:
        ordering = ["-start_date", "name"]
        verbose_name = "gebeurtenis"
        verbose_name_plural = "gebeurtenissen"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="event_ends_after_start",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("archive:event", kwargs={"slug": self.slug})

    def phase_of(self, article) -> int:
        """BEFORE, DURING or AFTER: where a piece stands on this event's timeline.

        A piece is before when even its last possible day is before the start, after when
        its first possible day is past the end; otherwise it overlaps, so a piece known
        only to the month of the event counts as during. No end date: still going on.
        """
        first, last = article.period
        if last < self.start_date:
            return BEFORE
        if self.end_date and first > self.end_date:
            return AFTER
        return DURING


class Genre(models.TextChoices):
    COLUMN = "column", "column"
    COMMENTAAR = "commentaar", "commentaar"
    ANALYSE = "analyse", "analyse"
    NIEUWS = "nieuws", "nieuws"
    INTERVIEW = "interview", "interview"
    ACHTERGROND = "achtergrond", "achtergrond"
    RECENSIE = "recensie", "recensie"


class DatePrecision(models.TextChoices):
    DAY = "day", "dag"
    MONTH = "month", "maand"
    YEAR = "year", "jaar"


def _search_vector():
    """Title (A), lead (B), body (C), then at weight D the parts of the text's compounds
    (klimaatakkoord: klimaat, akkoord), by compound_parts() in the database (migration
    0009, archive/search/compounds.py): a search for a part finds the compound, and
    only weights A-C count as the word itself. The parts come after the text's own
    positions, each once."""
    config = settings.SEARCH_CONFIG
    parts = Func(
        "title", "lead", "body", function="compound_parts", output_field=models.TextField()
    )
    return (
        SearchVector("title", weight="A", config=config)
        + SearchVector("lead", weight="B", config=config)
        + SearchVector("body", weight="C", config=config)
        + SearchVector(parts, weight="D", config=config)
    )


def _head_vector():
    config = settings.SEARCH_CONFIG
    return SearchVector("title", weight="A", config=config) + SearchVector(
        "lead", weight="B", config=config
    )


def content_hash_of(text):
    """The identity of a text modulo case and whitespace, as SQL: for the stored column
    and for asking whether a new text is already in the archive."""
    collapsed = Func(Lower(text), Value(r"\s+"), Value(" "), Value("g"), function="regexp_replace")
    return MD5(Func(collapsed, function="btrim"))


class Article(SlugNaturalKey, models.Model):
    """One piece: a column, editorial, analysis or report.

    The body is plain text: paragraphs separated by blank lines, a subheading is a
    paragraph starting with "## ".
    """

    SUBHEADING = "## "

    title = models.CharField("kop", max_length=300)
    slug = models.SlugField(max_length=200, unique=True)
    lead = models.TextField("intro", blank=True)
    body = models.TextField("tekst")
    genre = models.CharField("genre", max_length=20, choices=Genre.choices)
    # A piece known only to the month is stored on the 1st, to the year on 1 January;
    # date_precision says how much of the date is real.
    published_on = models.DateField("datum")
    date_precision = models.CharField(
        "datum bekend tot op",
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    source = models.ForeignKey(
        Source,
        verbose_name="bron",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="articles",
    )
    authors = models.ManyToManyField(
        Author, verbose_name="auteurs", blank=True, related_name="articles"
    )
    url = models.URLField("oorspronkelijke url", max_length=500, blank=True)
    actors = models.ManyToManyField(
        Actor, through="ArticleActor", related_name="articles", verbose_name="actoren"
    )
    events = models.ManyToManyField(
        Event, through="ArticleEvent", related_name="articles", verbose_name="gebeurtenissen"
    )
    # Suggestions an editor turned down: archive.tagging never suggests them again for
    # this piece, however often it is re-checked.
    rejected_actors = models.ManyToManyField(
        Actor, blank=True, related_name="rejected_in", verbose_name="afgewezen actoren"
    )
    rejected_events = models.ManyToManyField(
        Event, blank=True, related_name="rejected_in", verbose_name="afgewezen gebeurtenissen"
    )
    # Same text modulo case and whitespace gives the same hash: the database itself
    # refuses an exact duplicate. MD5 is for identity here, not for security.
    content_hash = models.GeneratedField(
        expression=content_hash_of("body"),
        output_field=models.CharField(max_length=32),
        db_persist=True,
    )
    search_vector = models.GeneratedField(
        expression=_search_vector(), output_field=SearchVectorField(), db_persist=True
    )
    # Headline and intro alone: a few dozen lexemes, small enough to stay in the row
    # (never TOASTed), so search can probe and rank on it for many pieces cheaply.
    head_vector = models.GeneratedField(
        expression=_head_vector(), output_field=SearchVectorField(), db_persist=True
    )
    created_at = models.DateTimeField("toegevoegd", auto_now_add=True)
    updated_at = models.DateTimeField("bijgewerkt", auto_now=True)

    objects = ArticleManager()

    class Meta:
        ordering = ["-published_on", "-id"]
        verbose_name = "stuk"
        verbose_name_plural = "stukken"
        indexes = [
            # Full-text search: search_vector @@ query.
            GinIndex(fields=["search_vector"], name="article_search_gin"),
            # Matches in headline or intro: the strongest candidates when a word is in
            # too many pieces to rank them all.
            GinIndex(fields=["head_vector"], name="article_head_gin"),
            # Browse newest first (home page, lists without a query), stable by id.
            models.Index(fields=["-published_on", "-id"], name="article_newest"),
            # The sitemap's latest change, and editors' "recently changed".
            models.Index(fields=["-updated_at"], name="article_updated"),
            # Source pages: a source's newest pieces without a sort of all of them.
            models.Index(fields=["source", "-published_on"], name="article_source_newest"),
            # Genre pages and the genre filter.
            models.Index(fields=["genre", "-published_on"], name="article_genre_newest"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["content_hash"], name="article_unique_content"),
            # A date known to the month or year is stored on the first day of it, so
            # no page or filter can mistake it for a day.
            models.CheckConstraint(
                condition=Q(date_precision="day")
                | Q(date_precision="month", published_on__day=1)
                | Q(date_precision="year", published_on__day=1, published_on__month=1),
                name="article_date_matches_precision",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Article, self.title)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("archive:article", kwargs={"slug": self.slug})

    def get_genre_url(self):
        return reverse("archive:genre", kwargs={"genre": self.genre})

    def get_period_url(self):
        """All pieces from the same day (or month, or year): the browse view, filtered."""
        first, last = self.period
        return f"{reverse('archive:browse')}?van={first.isoformat()}&tot={last.isoformat()}"

    @property
    def period(self) -> tuple[datetime.date, datetime.date]:
        """First and last day the publication date can be."""
        start = self.published_on
        if self.date_precision == DatePrecision.YEAR:
            return start, start.replace(month=12, day=31)
        if self.date_precision == DatePrecision.MONTH:
            last = calendar.monthrange(start.year, start.month)[1]
            return start, start.replace(day=last)
        return start, start

    def blocks(self) -> list[tuple[str, str]]:
        """The body as ("p" | "h2", text) pairs, for templates and exports."""
        out = []
        for chunk in self.body.replace("\r\n", "\n").split("\n\n"):
            text = " ".join(chunk.split())
            if not text:
                continue
            if text.startswith(self.SUBHEADING.strip()):
                out.append(("h2", text.removeprefix(self.SUBHEADING.strip()).strip()))
            else:
                out.append(("p", text))
        return out


class ArticleActor(models.Model):
    """An actor in a piece: how often named, and whether an editor confirmed the link."""

    article = models.ForeignKey(
        Article, verbose_name="stuk", on_delete=models.CASCADE, related_name="actor_links"
    )
    actor = models.ForeignKey(
        Actor, verbose_name="actor", on_delete=models.CASCADE, related_name="article_links"
    )
    mentions = models.PositiveIntegerField("vermeldingen", default=0)
    confirmed = models.BooleanField("bevestigd", default=False)

    objects = LinkManager()

    class Meta:
        ordering = ["-mentions", "actor__name"]
        verbose_name = "actor in stuk"
        verbose_name_plural = "actoren in stuk"
        constraints = [
            models.UniqueConstraint(fields=["article", "actor"], name="article_actor_unique"),
        ]
        indexes = [
            # An actor's pieces (actor page, actor filter) starts from the actor.
            models.Index(fields=["actor", "article"], name="articleactor_by_actor"),
            # The pieces an editor linked to an actor its names do not find: search adds
            # them to a search for the actor (archive/search/entities.py), and a popular
            # actor's 200,000 other links must not be read to find them.
            models.Index(
                fields=["actor", "article"],
                name="articleactor_by_hand",
                condition=Q(confirmed=True, mentions=0),
            ),
        ]

    def __str__(self):
        return f"{self.actor} in {self.article}"

    def natural_key(self):
        return (*self.article.natural_key(), *self.actor.natural_key())

    natural_key.dependencies = ["archive.article", "archive.actor"]


class ArticleEvent(models.Model):
    article = models.ForeignKey(
        Article, verbose_name="stuk", on_delete=models.CASCADE, related_name="event_links"
    )
    event = models.ForeignKey(
        Event, verbose_name="gebeurtenis", on_delete=models.CASCADE, related_name="article_links"
    )
    confirmed = models.BooleanField("bevestigd", default=False)
    # Why archive.tagging suggested the link, so an editor can judge it at a glance.
    evidence = models.CharField("waarom voorgesteld", max_length=300, blank=True)

    objects = LinkManager()

    class Meta:
        ordering = ["event__start_date"]
        verbose_name = "gebeurtenis in stuk"
        verbose_name_plural = "gebeurtenissen in stuk"
        constraints = [
            models.UniqueConstraint(fields=["article", "event"], name="article_event_unique"),
        ]
        indexes = [
            models.Index(fields=["event", "article"], name="articleevent_by_event"),
        ]

    def __str__(self):
        return f"{self.event} in {self.article}"

    def natural_key(self):
        return (*self.article.natural_key(), *self.event.natural_key())

    natural_key.dependencies = ["archive.article", "archive.event"]


class NearCopyKey(models.Model):
    """One of a piece's near-copy fingerprints (archive/duplicates.py): pieces that
    share a key are compared on their texts. The primary key (key, article) is the
    look-up's index: "which pieces have any of these keys?" reads only the index."""

    pk = models.CompositePrimaryKey("key", "article")
    key = models.BigIntegerField()
    # Its index serves replacing or deleting a piece's keys, which starts from the piece.
    # Django deletes the keys with their piece; a database constraint would check each
    # of the eight key rows a new piece brings (a sixth of a bulk import's COPY time).
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )

    class Meta:
        # No ordering: look-ups read keys in index order, and sorting them serves no one.
        verbose_name = "vingerafdruk"
        verbose_name_plural = "vingerafdrukken"

    def __str__(self):
        return f"{self.key} van {self.article_id}"


class ImportedBatch(models.Model):
    """Lines of an import file stored in one batch (archive/bulk.py), written in the
    batch's own transaction: running the same import again skips what is here, and
    tries again the lines that failed."""

    # The file's identity: its name and the digest of its first megabyte.
    file_key = models.CharField(max_length=100)
    first_line = models.PositiveIntegerField()
    last_line = models.PositiveIntegerField()
    failed_lines = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["file_key", "id"]
        verbose_name = "geïmporteerde partij"
        verbose_name_plural = "geïmporteerde partijen"
        indexes = [
            # A run that starts reads the batches of its files.
            models.Index(fields=["file_key", "id"], name="importedbatch_by_file"),
        ]

    def __str__(self):
        return f"{self.file_key}: regels {self.first_line}-{self.last_line}"


class Recheck(models.Model):
    """Pieces re-checked in the background after an editor changed what finds an actor
    (names, derived forms, kind) or an event (signal words, dates, actors): archive/
    rechecks.py. Admin shows it queued, running (how far) and done."""

    class Status(models.TextChoices):
        QUEUED = "queued", "wacht"
        RUNNING = "running", "bezig"
        DONE = "done", "klaar"
        FAILED = "failed", "mislukt"

    actor = models.ForeignKey(
        Actor, on_delete=models.CASCADE, null=True, blank=True, related_name="rechecks"
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, null=True, blank=True, related_name="rechecks"
    )
    # An actor's new names and forms: only pieces holding one of them need a look.
    # Empty: everything that finds the actor or event.
    names = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    reason = models.CharField("aanleiding", max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    pieces = models.PositiveIntegerField("te bekijken", null=True, blank=True)
    checked = models.PositiveIntegerField("bekeken", default=0)
    changed = models.PositiveIntegerField("koppelingen gemaakt of bijgewerkt", default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField("aangevraagd", auto_now_add=True)
    started_at = models.DateTimeField("begonnen", null=True, blank=True)
    finished_at = models.DateTimeField("klaar", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "nalooptaak"
        verbose_name_plural = "nalooptaken"
        constraints = [
            models.CheckConstraint(
                condition=Q(actor__isnull=True) ^ Q(event__isnull=True),
                name="recheck_of_actor_or_event",
            ),
        ]

    def __str__(self):
        return f"{self.actor or self.event}: {self.reason}"

    def get_absolute_url(self):
        subject = self.actor or self.event
        return subject.get_absolute_url()

    @property
    def progress(self) -> str:
        """ "3.200 van 10.269 stukken bekeken", as admin shows it."""
        if self.status == self.Status.QUEUED:
            return "wacht op zijn beurt"
        if self.pieces is None:
            return "stukken zoeken"
        done = f"{self.checked:,} van {self.pieces:,} stukken bekeken".replace(",", ".")
        if self.status == self.Status.DONE:
            return f"{done}; {self.changed:,} koppelingen".replace(",", ".")
        return done
