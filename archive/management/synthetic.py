"""A synthetic Dutch archive for benchmarks: realistic in shape, generated fast.

Words follow real Dutch frequencies (wordfreq); lengths, dates, genres, sources and
authors follow the shape of a commentary archive; actors are named in the text of every
piece they are linked to, and events are linked to pieces in their window that name
their actors and signal words, so search, facets and actor pages agree.

Two layers:

- The *world* (sources, authors, actors, events) is fixed: built from WORLD_SEED and
  stored once, by slug, so runs with different seeds share it. The seed archive's
  actors and events (Poetin, the Wagner mutiny, ...) join it when they are present.
- *Pieces* are numbered 1..N per seed (slug ``synth-<seed>-<n>``) and generated in
  blocks of BLOCK pieces, each block from its own random stream: the same seed gives
  the same pieces whatever the batch size, the number of workers, or which pieces are
  already in the archive.

Rows go in by COPY, many pieces per transaction, in parallel worker processes; the
database computes the generated columns (content hash, search vectors) itself.
"""

import bisect
import datetime
import functools
import itertools
import math
import multiprocessing
import os
import random
import re
import signal
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.utils.text import slugify

from archive.duplicates import fingerprints
from archive.models import (
    Actor,
    Article,
    ArticleActor,
    ArticleEvent,
    Author,
    Event,
    Genre,
    NearCopyKey,
    Source,
)

WORLD_SEED = 2001
BLOCK = 1000  # pieces per random stream: the unit of determinism
FIRST_DAY = datetime.date(2001, 1, 1)
LAST_DAY = datetime.date(2025, 12, 31)
VOCABULARY_SIZE = 50_000

POETIN = "vladimir-poetin"
POETIN_SHARE = 0.20
# How many other actors a piece names, and how steeply popularity falls with rank.
ACTORS_PER_PIECE = 2.6
ACTOR_ZIPF = 1.0
AUTHOR_ZIPF = 0.9
SOURCE_ZIPF = 1.1
REVIEWED_SHARE = 0.3  # pieces whose links an editor confirmed
# A piece up to a month after an event's end is still in its window (as in tagging).
EVENT_WINDOW_AFTER = 30

# Median body length per genre (words) and the genre mix; lognormal spread, so the mean
# over all pieces is about 450 words, cut to 150..1500.
GENRES = {
    Genre.NIEUWS: (0.35, 280),
    Genre.COLUMN: (0.15, 440),
    Genre.COMMENTAAR: (0.10, 320),
    Genre.ANALYSE: (0.12, 510),
    Genre.ACHTERGROND: (0.12, 640),
    Genre.INTERVIEW: (0.07, 680),
    Genre.RECENSIE: (0.09, 380),
}
LENGTH_SIGMA = 0.4
MIN_WORDS, MAX_WORDS = 150, 1500

# COPY names its columns: the generated ones (content hash, search vectors, and any added
# later) are the database's to compute, and a column added with a default gets it.
ARTICLE_COLUMNS = (
    "id",
    "title",
    "slug",
    "lead",
    "body",
    "genre",
    "published_on",
    "date_precision",
    "source_id",
    "url",
    "created_at",
    "updated_at",
)

# ---------------------------------------------------------------------------------
# Name material


def _words(text: str) -> list[str]:
    return text.split()


def _items(text: str) -> list[str]:
    return text.split("|")


FIRST_NAMES = _words(
    "Jan Pieter Kees Henk Willem Johan Gerard Hans Erik Frank Martin Peter Marco Dennis "
    "Jeroen Bas Ruben Daan Sem Thijs Lars Bram Joost Sander Niels Wouter Maarten Rutger "
    "Floris Sjoerd Tjeerd Hidde Gijs Koen Stijn Mohamed Ahmed Youssef Emre Mehmet Rachid "
    "Anne Maria Els Ingrid Marijke Ellen Monique Sandra Linda Esther Petra Annemarie "
    "Inge Sanne Femke Lotte Eva Iris Fleur Noor Julia Sophie Lieke Maaike Marloes Renske "
    "Hanneke Jolanda Wilma Yvonne Carla Margriet Ilse Merel Roos Tessa Nadia Fatima "
    "Samira Leila Aylin Elif Saskia Mirjam Tamara Wendy Nicole Astrid Heleen Geertje "
    "Trijntje Aukje"
)
# Actors' surnames are made up from parts, so they are never ordinary Dutch words (a
# surname alone finds a person, and "de Jong" would then find every "jong").
SURNAME_HEADS = _words(
    "Hoog Ooster Wester Zuider Noorder Groen Brink Veen Hout Wijn Steen Molen Kerk Sluis "
    "Haver Linde Rozen Esch Hulst Berken Eiken Blom Wit Zwart Rood Bruin Koren Akker "
    "Beuke Heem Lang Kort Vlie Rijs Wolde Baar Dijke Bree Dael Goor Heer Kamp Hof Loo "
    "Stok Ter Vree Weer Zand Ameron Bever Dorre Egge Gaas Hamer Jonke Olde Riet Schol Uil"
)
SURNAME_TAILS = _words(
    "veld man sma stra inga huis hof kamp berg beek horst broek meijer dorp wijk laar "
    "vliet gaard kerk boom werff hagen holt rade ink ing ema enga"
)
PARTICLES = ("", "", "", "", "van ", "de ", "van der ", "van den ", "ter ", "van de ")
AUTHOR_SURNAMES = _items(
    "de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|Mulder|"
    "de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|"
    "de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Heuvel|"
    "van der Veen|van den Broek|de Bruijn|de Bruin|van der Heijden|Schouten|van Beek|"
    "Willems|van Vliet|van de Ven|Hoekstra|Maas|Verhoeven|Koster|van Dam|van der Wal|"
    "Prins|Blom|Huisman|Peeters|de Jong|Jansen|van Wijk|Kuipers|Veenstra|Kramer|"
    "van den Bosch|Postma|Vink|Timmer|Post|Wouters|Kuiper|Bosman|Hermans|Kaya|Yilmaz|"
    "El Amrani|Bouzid|Nguyen|Tahiri|Öztürk|Koç|Boukhari|Sarmo|Wijnands|Oosterhuis|Zwart|"
    "Groenewegen|Terpstra|Hofman|Scholten|Lammers|Evers|Gerritsen|Bijl|Pronk"
)

COUNTRIES = (
    "Nederland:Holland,the Netherlands|België:Belgium|Duitsland:Germany,Deutschland|"
    "Frankrijk:France|Verenigd Koninkrijk:Groot-Brittannië,United Kingdom,UK|"
    "Spanje:Spain|Italië:Italy,Italia|Polen:Poland|China:Volksrepubliek China|Japan|India|"
    "Turkije:Turkey,Türkiye|Iran|Irak:Iraq|Syrië:Syria|Israël:Israel|Egypte:Egypt|"
    "Zuid-Afrika:South Africa|Brazilië:Brazil|Mexico|Canada|Australië:Australia|"
    "Indonesië:Indonesia|Suriname|Griekenland:Greece|Hongarije:Hungary|Zweden:Sweden|"
    "Noorwegen:Norway|Denemarken:Denmark|Finland|Oostenrijk:Austria|Zwitserland|Portugal|"
    "Ierland:Ireland|Afghanistan|Pakistan|Saoedi-Arabië:Saudi-Arabia|Nigeria|Kenia:Kenya|"
    "Marokko:Morocco|Venezuela|Argentinië:Argentina|Noord-Korea:North Korea|"
    "Zuid-Korea:South Korea|Taiwan|Georgië:Georgia|Moldavië:Moldova|Litouwen:Lithuania|"
    "Letland:Latvia|Estland:Estonia|Servië:Serbia|Kosovo|Libanon:Lebanon|Jemen:Yemen|"
    "Libië:Libya|Congo|Ethiopië:Ethiopia|Soedan:Sudan|Cuba"
)
PLACES = (
    "Amsterdam|Rotterdam|Den Haag:'s-Gravenhage,The Hague|Utrecht|Eindhoven|Groningen|"
    "Maastricht|Brussel:Bruxelles,Brussels|Antwerpen:Antwerp|Berlijn:Berlin|Parijs:Paris|"
    "Londen:London|Washington|New York|Peking:Beijing|Tokio:Tokyo|Istanbul|"
    "Jeruzalem:Jerusalem|Gaza|Bagdad:Baghdad|Kaboel:Kabul|Damascus|Caïro:Cairo|Madrid|"
    "Athene:Athens|Wenen:Wien,Vienna|Warschau:Warszawa,Warsaw|Boedapest:Budapest|"
    "Praag:Praha,Prague|Genève:Geneva|Straatsburg:Strasbourg|Davos|"
    "Sint-Petersburg:St. Petersburg|Minsk|Tbilisi|Odessa:Odesa|Charkiv:Charkov,Kharkiv|"
    "Marioepol:Mariupol|Bachmoet:Bakhmut|Zaporizja:Zaporizhzhia|Krim:Crimea|Donbas|"
    "Zwolle|Leeuwarden|Arnhem|Nijmegen|Tilburg|Breda|Leiden|Haarlem|Delft|Almere|"
    "Lelystad|Middelburg|Assen|Enschede|Schiphol|Dordrecht|Amersfoort|Apeldoorn|Venlo|"
    "Heerlen|Zaandam|Alkmaar|Hoorn|Emmen|Deventer|Hilversum|Vlissingen|Terneuzen|"
    "Harderwijk|Roermond|Sittard|Oss|Helmond|Gouda|Zoetermeer|Schiedam|Velsen|Texel"
)
REAL_ORGANISATIONS = (
    "Europese Unie:EU|Verenigde Naties:VN,United Nations|Tweede Kamer|Eerste Kamer|"
    "Europese Commissie|Europees Parlement|Internationaal Strafhof:ICC|"
    "Europese Centrale Bank:ECB|De Nederlandsche Bank:DNB|Shell:Koninklijke Shell|"
    "Philips|ASML|KLM|Ahold Delhaize:Ahold|Unilever|ING|Rabobank|ABN Amro|"
    "Nederlandse Spoorwegen:NS|Ajax|PSV|Feyenoord|KNVB|FNV|VNO-NCW|Greenpeace|"
    "Amnesty International:Amnesty|Rode Kruis|Wereldgezondheidsorganisatie:WHO|IMF|"
    "Wereldbank|OPEC|Hamas|Hezbollah|Taliban|Europol|Interpol|Frontex|Rijkswaterstaat|"
    "Openbaar Ministerie:OM|Raad van State|VVD|CDA|PvdA:Partij van de Arbeid|D66|"
    "GroenLinks|PVV:Partij voor de Vrijheid|SP:Socialistische Partij|ChristenUnie|SGP|"
    "Partij voor de Dieren:PvdD|BBB:BoerBurgerBeweging"
)
REAL_PERSONS = (
    "Mark Rutte|Geert Wilders|Donald Trump|Joe Biden|Angela Merkel|Emmanuel Macron|"
    "Volodymyr Zelensky:Zelenski,Zelenskyy,Zelenskyj|Xi Jinping|"
    "Recep Tayyip Erdogan:Erdoğan|Dick Schoof|Frans Timmermans|Ursula von der Leyen|"
    "Jan Peter Balkenende|Pim Fortuyn|Sigrid Kaag|Pieter Omtzigt|Thierry Baudet|"
    "Barack Obama|Tony Blair|Boris Johnson|Viktor Orbán:Orban|"
    "Benjamin Netanyahu:Netanjahoe|Bashar al-Assad:Assad|Kamala Harris|Olaf Scholz"
)
BRAND_HEADS = _words(
    "Ned Rijn Maas Zee Delta Polder Noord West Oost Zuid Hol Neder Eem IJssel Schelde "
    "Waal Vecht Dommel Amstel Linge Berkel Regge Dinkel Vliet Merwe Gouw Kempen Veluwe"
)
BRAND_TAILS = _words(
    "staal gas bouw link net com tech port trans vest fin data med zorg energie water "
    "land kracht stroom haven rail lucht werk bank pharma chem"
)
CAUSE_HEADS = _words(
    "Water Polder Lucht Bodem Wijk Stad Dorp Natuur Kust Rivier Spoor Duin Heide Akker "
    "Buurt Zee Weide Vogel Kinder Ouderen"
)
CAUSE_TAILS = _words("wacht belang raad fonds front platform alliantie beweging collectief")
CAUSE_FORMS = ("Stichting", "Vereniging", "Actiegroep", "Platform")
ROLES = {
    "person": (
        "Nederlands politicus.",
        "Wethouder.",
        "Topman van een beursgenoteerd bedrijf.",
        "Hoogleraar economie.",
        "Vakbondsbestuurder.",
        "Burgemeester.",
        "Advocaat.",
        "Minister.",
        "Europarlementariër.",
        "Schrijver en opiniemaker.",
    ),
    "organisation": ("Bedrijf.", "Belangenorganisatie.", "Stichting.", "Lokale partij."),
}

REGIONS = _words(
    "Noordhollands Zuid-Hollands Brabants Limburgs Gelders Overijssels Fries Gronings "
    "Drents Zeeuws Utrechts Flevolands Haarlems Leids Delfts Twents Achterhoeks "
    "Westfries Rotterdams Amsterdams Haags Eindhovens Nijmeegs Arnhems Bredaas Tilburgs "
    "Amersfoorts Zwols Deventers Leeuwarder Veluws Kempisch Rijnmonds Zaans Alkmaars "
    "Hoorns Dordts Gooise Betuws Westlands Kennemer Bollenstreek"
)
PAPER_KINDS = ("Dagblad", "Courant", "Nieuwsblad", "Krant", "Weekblad", "Bode", "Post")
NATIONAL_TITLES = _items(
    "De Avondpost|De Morgenbode|De Waarnemer|Het Vrije Woord|De Nieuwe Tijd|Het Landblad|"
    "De Dagelijkse Kroniek|Het Weekoverzicht|De Opinie|Het Nationaal Dagblad|"
    "De Financiële Courant|De Lage Landen|Het Middenblad|De Vrije Pers|Het Ochtendnieuws"
)

# Event themes: name pattern, kinds of the actors it involves, signal words, duration.
EVENT_THEMES = (
    (
        "Staking bij {organisation}",
        ("organisation", "person"),
        "staking stakers vakbond cao loonsverhoging actievoerders",
        (3, 21),
    ),
    (
        "Verkiezingen in {country}",
        ("country", "person", "person"),
        "verkiezingen stembus campagne kiezers uitslag lijsttrekker",
        (20, 60),
    ),
    (
        "Topconferentie in {place}",
        ("place", "country", "country", "person"),
        "top topontmoeting slotverklaring regeringsleiders onderhandelingen",
        (1, 4),
    ),
    (
        "Overstromingen in {place}",
        ("place", "organisation"),
        "overstroming hoogwater evacuatie noodtoestand dijkdoorbraak",
        (3, 20),
    ),
    (
        "Proces tegen {person}",
        ("person", "organisation"),
        "proces rechtbank aanklager vonnis verdachte advocaat",
        (30, 200),
    ),
    (
        "Fraudeschandaal bij {organisation}",
        ("organisation", "person"),
        "fraude schandaal onthulling boekhouding aftreden justitie",
        (20, 120),
    ),
    (
        "Overname van {organisation}",
        ("organisation", "organisation", "person"),
        "overname bod aandeelhouders fusie beurs",
        (10, 90),
    ),
    (
        "Aanslag in {place}",
        ("place", "country"),
        "aanslag explosie slachtoffers daders terrorisme",
        (1, 1),
    ),
    (
        "Kabinetscrisis rond {person}",
        ("person", "organisation", "organisation"),
        "kabinetscrisis motie coalitie formatie aftreden",
        (5, 60),
    ),
    (
        "Protesten in {place}",
        ("place", "person", "organisation"),
        "protest demonstranten betoging politie onrust",
        (7, 90),
    ),
    (
        "Aardbeving bij {place}",
        ("place", "country", "organisation"),
        "aardbeving beving schade slachtoffers hulpverlening",
        (1, 14),
    ),
    (
        "Handelsconflict met {country}",
        ("country", "country", "person"),
        "handelsconflict importheffingen sancties export tarieven",
        (60, 400),
    ),
)
SYNTHETIC_EVENTS = 32

# The seed archive's actors and events join the world when present, at these
# popularity ranks (1 = most named); the others land in the long tail.
SEED_ACTOR_RANKS = {
    "rusland": 3,
    "oekraine": 5,
    "verenigde-staten": 2,
    "navo": 9,
    "kremlin": 14,
    "moskou": 16,
    "kiev": 21,
    "wagner": 40,
    "jevgeni-prigozjin": 45,
    "sergej-lavrov": 60,
    "belarus": 70,
    "alexandr-loekasjenko": 90,
    "sergej-shoigu": 110,
    "aleksej-navalny": 120,
    "gazprom": 150,
    "fsb": 170,
    "donetsk": 200,
    "loehansk": 260,
    "cherson": 300,
}
SEED_ACTORS = _words(
    "vladimir-poetin jevgeni-prigozjin alexandr-loekasjenko nikolai-patrushev "
    "sergej-shoigu aleksej-navalny sergej-lavrov alexander-dugin darya-dugina "
    "samvel-yurievich derk-sauer jelena-tsjernenko denis-volkov wagner fsb gazprom navo "
    "verenigde-staten rusland oekraine belarus cherson kiev moskou rostov-aan-de-don "
    "loehansk donetsk kremlin levada-centrum kommersant the-moscow-times "
    "moskovski-komsomolets nezavisimaja-gazeta"
)
SEED_EVENTS = _words(
    "wagner-muiterij russische-troepenopbouw-oekraine russische-invasie-oekraine "
    "terugtrekking-cherson russische-mobilisatie-2022 slag-om-makiivka minsk-akkoorden "
    "aanslag-darya-dugina"
)
PINNED_RANKS = {
    "nederland": 1,
    "europese-unie": 4,
    "duitsland": 6,
    "tweede-kamer": 7,
    "china": 8,
    "mark-rutte": 10,
    "donald-trump": 11,
    "amsterdam": 12,
}


def fold(text: str) -> str:
    """Lower case without diacritics, as names are compared."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _named(spec: str) -> list[tuple[str, list[str]]]:
    """'Name:Alias,Alias|Name' to [(name, [aliases])]."""
    out = []
    for item in spec.split("|"):
        name, _, aliases = item.partition(":")
        out.append((name, [a for a in aliases.split(",") if a]))
    return out


def _latin(text: str) -> bool:
    return all(ord(ch) < 0x250 or ch in "‘’" for ch in text)


# ---------------------------------------------------------------------------------
# The world: sources, authors, actors, events


@dataclass
class ActorSpec:
    slug: str
    name: str
    kind: str
    aliases: list[str]
    description: str = ""
    invented: bool = False  # made up here: the only actors events are invented about


@dataclass
class EventSpec:
    slug: str
    name: str
    start: datetime.date
    end: datetime.date | None
    description: str
    actor_slugs: list[str]
    signal_words: list[str]


@dataclass
class World:
    sources: list[tuple[str, str, str]] = field(default_factory=list)  # slug, name, url
    authors: list[tuple[str, str, str]] = field(default_factory=list)  # slug, name, source
    actors: list[ActorSpec] = field(default_factory=list)
    events: list[EventSpec] = field(default_factory=list)


@functools.cache
def build_world(seed: int = WORLD_SEED, actors: int = 2000) -> World:
    """The fixed cast every synthetic piece draws from (no database)."""
    rng = random.Random(seed)
    common = set(dutch_words()[:1000])
    world = World()

    # Sources: national titles first (they lead the popularity ranking), then regional.
    names = list(NATIONAL_TITLES)
    regional = [f"{region} {kind}" for region in REGIONS for kind in PAPER_KINDS]
    rng.shuffle(regional)
    names += regional[: 299 - len(names)]
    for name in names:
        slug = slugify(name)
        world.sources.append((slug, name, f"https://www.{slug.replace('-', '')}.nl/"))

    # Authors: ordinary Dutch names (they are never searched for as actors).
    seen = Counter()
    while len(world.authors) < 3000:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(AUTHOR_SURNAMES)}"
        slug = slugify(name)
        seen[slug] += 1
        if seen[slug] > 1:
            slug = f"{slug}-{seen[slug]}"
        home = world.sources[_zipf_index(rng, len(world.sources), SOURCE_ZIPF)][0]
        world.authors.append((slug, name, home))

    # Actors: real countries, places, organisations and people, then made-up ones.
    taken: set[str] = set()

    def add(name, kind, aliases, description="", invented=False):
        slug = slugify(name)
        # A one-word alias that is a common word would make every piece "name" the actor.
        aliases = [a for a in aliases if " " in a or fold(a) not in common]
        if slug and slug not in taken:
            taken.add(slug)
            world.actors.append(ActorSpec(slug, name, kind, aliases, description, invented))

    for name, aliases in _named(COUNTRIES):
        add(name, "country", aliases)
    for name, aliases in _named(PLACES):
        add(name, "place", aliases)
    for name, aliases in _named(REAL_ORGANISATIONS):
        add(name, "organisation", aliases)
    for name, aliases in _named(REAL_PERSONS):
        add(name, "person", aliases)

    brands = [head + tail for head in BRAND_HEADS for tail in BRAND_TAILS]
    causes = [head + tail for head in CAUSE_HEADS for tail in CAUSE_TAILS]
    rng.shuffle(brands)
    rng.shuffle(causes)
    for brand in brands[:180]:
        if fold(brand) not in common:
            role = rng.choice(ROLES["organisation"])
            add(brand, "organisation", [f"{brand} Groep"], role, invented=True)
    for cause in causes[:120]:
        if fold(cause) not in common:
            form = rng.choice(CAUSE_FORMS)
            add(f"{form} {cause}", "organisation", [cause], f"{form}.", invented=True)

    surnames = [head + tail for head in SURNAME_HEADS for tail in SURNAME_TAILS]
    rng.shuffle(surnames)
    words = set(dutch_words())
    surnames = [s for s in surnames if fold(s) not in words]
    for surname in surnames:
        if len(world.actors) >= actors:
            break
        first = rng.choice(FIRST_NAMES)
        name = f"{first} {rng.choice(PARTICLES)}{surname}"
        aliases = [f"{first[0]}. {surname}"] if rng.random() < 0.4 else []
        if rng.random() < 0.15 and "ij" in surname:
            aliases.append(name.replace("ij", "y"))
        add(name, "person", aliases, rng.choice(ROLES["person"]), invented=True)

    # Events: made up, spread over the 25 years, more of them recently. Only made-up
    # people and organisations take part; real countries and places are the setting.
    by_kind = {}
    for actor in world.actors:
        if actor.invented or actor.kind in ("country", "place"):
            by_kind.setdefault(actor.kind, []).append(actor)
    event_slugs = set()
    for n in range(SYNTHETIC_EVENTS):
        template, kinds, signals, (shortest, longest) = EVENT_THEMES[n % len(EVENT_THEMES)]
        involved = []
        for kind in kinds:
            pool = [a for a in by_kind[kind][:400] if a not in involved]
            involved.append(rng.choice(pool))
        start = _day_of(rng, growth=1.06)
        duration = rng.randint(shortest, longest)
        end = None if rng.random() < 0.08 else start + datetime.timedelta(days=duration - 1)
        end = min(end, LAST_DAY) if end else None
        name = template.format(**{involved[0].kind: involved[0].name})
        slug = slugify(f"{name} {start.year}")
        if slug in event_slugs:
            continue
        event_slugs.add(slug)
        world.events.append(
            EventSpec(
                slug=slug,
                name=f"{name} ({start.year})",
                start=start,
                end=end,
                description=f"{name}, begonnen op {start.isoformat()}.",
                actor_slugs=[a.slug for a in involved],
                signal_words=signals.split(),
            )
        )
    return world


def _zipf_index(rng, n: int, exponent: float) -> int:
    weights = _zipf_cumulative(n, exponent)
    return bisect.bisect(weights, rng.random() * weights[-1])


_zipf_cache: dict = {}


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    key = (n, exponent)
    if key not in _zipf_cache:
        _zipf_cache[key] = list(itertools.accumulate(1 / (r + 1) ** exponent for r in range(n)))
    return _zipf_cache[key]


def _year_weights(growth: float) -> list[float]:
    return list(itertools.accumulate(growth**k for k in range(LAST_DAY.year - FIRST_DAY.year + 1)))


def _day_of(rng, growth: float) -> datetime.date:
    """A day in 2001-2025, each year `growth` times as likely as the one before."""
    weights = _year_weights(growth)
    year = FIRST_DAY.year + _pick(rng, weights)
    first = datetime.date(year, 1, 1).toordinal()
    return datetime.date.fromordinal(rng.randint(first, datetime.date(year, 12, 31).toordinal()))


_dutch_words: list[str] = []


def dutch_words() -> list[str]:
    """The 50,000 most frequent Dutch words (wordfreq ships them inside the package)."""
    if not _dutch_words:
        import wordfreq

        _dutch_words.extend(wordfreq.top_n_list("nl", VOCABULARY_SIZE))
    return _dutch_words


# ---------------------------------------------------------------------------------
# Storing the world and loading it back as the cast


def store_world(world: World) -> None:
    """Insert what is missing of the world, by slug; existing rows stay as they are.

    A few thousand rows, so the ORM does it, filling in whatever defaults the models
    have by then.
    """
    existing = set(Source.objects.values_list("slug", flat=True))
    Source.objects.bulk_create(
        [
            Source(slug=slug, name=name, url=url)
            for slug, name, url in world.sources
            if slug not in existing
        ],
        ignore_conflicts=True,
    )
    names = dict(Source.objects.values_list("slug", "name"))
    existing = set(Author.objects.values_list("slug", flat=True))
    Author.objects.bulk_create(
        [
            Author(slug=slug, name=name, bio=f"{name} schrijft voor {names[home]}.")
            for slug, name, home in world.authors
            if slug not in existing and home in names
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    existing = set(Actor.objects.values_list("slug", flat=True))
    Actor.objects.bulk_create(
        [
            Actor(
                slug=a.slug, name=a.name, kind=a.kind, aliases=a.aliases, description=a.description
            )
            for a in world.actors
            if a.slug not in existing
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    existing = set(Event.objects.values_list("slug", flat=True))
    Event.objects.bulk_create(
        [
            Event(
                slug=e.slug,
                name=e.name,
                start_date=e.start,
                end_date=e.end,
                description=e.description,
                signal_words=e.signal_words,
            )
            for e in world.events
            if e.slug not in existing
        ],
        ignore_conflicts=True,
    )
    # Actors for the events made just now (an editor's changes to older ones stand).
    events = dict(
        Event.objects.filter(
            slug__in=[e.slug for e in world.events if e.slug not in existing]
        ).values_list("slug", "pk")
    )
    actors = dict(
        Actor.objects.filter(slug__in=[s for e in world.events for s in e.actor_slugs]).values_list(
            "slug", "pk"
        )
    )
    Event.actors.through.objects.bulk_create(
        [
            Event.actors.through(event_id=events[e.slug], actor_id=actors[slug])
            for e in world.events
            if e.slug in events
            for slug in e.actor_slugs
            if slug in actors
        ],
        ignore_conflicts=True,
    )


@dataclass
class CastActor:
    id: int
    slug: str
    name: str
    kind: str
    aliases: tuple[str, ...]  # Latin-script aliases only: those read naturally in Dutch

    @property
    def short(self) -> str:
        return self.name.split()[-1] if self.kind == "person" else self.name

    def mention(self, rng, first: bool) -> str:
        if self.kind == "person":
            if first:
                return self.name
            roll = rng.random()
            if roll < 0.05 and self.aliases:
                return rng.choice(self.aliases)
            return self.name if roll < 0.15 else self.short
        if self.aliases and rng.random() < 0.15:
            return rng.choice(self.aliases)
        return self.name

    def match_tokens(self) -> set[str]:
        """The one-word names a reader's search finds this actor by."""
        names = [self.name, *self.aliases]
        if self.kind == "person":
            names += [n.split()[-1] for n in names if len(n.split()) > 1]
        return {fold(n) for n in names if len(n.split()) == 1}


@dataclass
class CastEvent:
    id: int
    name: str
    first: int  # ordinal of the first day of the window
    last: int  # ordinal of the last day of the window
    actors: tuple[int, ...]  # indexes into Cast.actors
    signals: tuple[str, ...]
    share: float  # chance that a piece in the window is about the event


@dataclass
class Cast:
    """The world as stored, with everything generation needs, in a fixed order."""

    actors: list[CastActor]
    actor_weights: list[float]  # cumulative, Poetin excluded (he has his own share)
    poetin: int | None
    events: list[CastEvent]
    events_by_day: dict[int, tuple[int, ...]]
    sources: list[tuple[int, str]]  # id, url
    source_weights: list[float]
    authors: list[tuple[int, int]]  # id, index of the home source
    author_weights: list[float]
    vocabulary: "Vocabulary"


def load_cast(cursor, world: World) -> Cast:
    cursor.execute(
        "SELECT slug, id, url FROM archive_source WHERE slug = ANY(%s)",
        [[s[0] for s in world.sources] + ["het-parool"]],
    )
    found = {slug: (pk, url) for slug, pk, url in cursor.fetchall()}
    source_slugs = [s for s in ["het-parool", *(s[0] for s in world.sources)] if s in found]
    sources = [found[s] for s in source_slugs]
    source_index = {slug: i for i, slug in enumerate(source_slugs)}

    cursor.execute(
        "SELECT slug, id FROM archive_author WHERE slug = ANY(%s)",
        [[a[0] for a in world.authors] + ["derk-sauer"]],
    )
    found = dict(cursor.fetchall())
    homes = [("derk-sauer", "het-parool"), *((a[0], a[2]) for a in world.authors)]
    authors = [
        (found[slug], source_index[home])
        for slug, home in homes
        if slug in found and home in source_index
    ]

    slugs = list(dict.fromkeys([a.slug for a in world.actors] + SEED_ACTORS))
    cursor.execute(
        "SELECT slug, id, name, kind, aliases FROM archive_actor WHERE slug = ANY(%s)", [slugs]
    )
    rows = {row[0]: row for row in cursor.fetchall()}
    # Popularity: pinned ranks first, the rest in a fixed shuffled order.
    rest = [s for s in slugs if s in rows and s not in PINNED_RANKS and s not in SEED_ACTOR_RANKS]
    random.Random(WORLD_SEED).shuffle(rest)
    pinned = sorted(
        ((rank, s) for s, rank in (PINNED_RANKS | SEED_ACTOR_RANKS).items() if s in rows)
    )
    for rank, slug in pinned:
        rest.insert(min(rank - 1, len(rest)), slug)
    actors = [
        CastActor(pk, slug, name, kind, tuple(a for a in aliases if _latin(a)))
        for slug, pk, name, kind, aliases in (rows[s] for s in rest)
    ]
    index = {a.slug: i for i, a in enumerate(actors)}
    poetin = index.get(POETIN)

    weights = [1 / (rank + 1) ** ACTOR_ZIPF for rank in range(len(actors))]
    if poetin is not None:
        weights[poetin] = 0.0

    event_slugs = list(dict.fromkeys([e.slug for e in world.events] + SEED_EVENTS))
    cursor.execute(
        """
        SELECT e.slug, e.id, e.name, e.start_date, e.end_date, e.signal_words,
               array_remove(array_agg(a.slug ORDER BY a.slug), NULL)
        FROM archive_event e
        LEFT JOIN archive_event_actors ea ON ea.event_id = e.id
        LEFT JOIN archive_actor a ON a.id = ea.actor_id
        WHERE e.slug = ANY(%s)
        GROUP BY e.id
        """,
        [event_slugs],
    )
    rows = {row[0]: row for row in cursor.fetchall()}
    events = []
    for slug in (s for s in event_slugs if s in rows):
        _, pk, name, start, end, signals, actor_slugs = rows[slug]
        last = (end or LAST_DAY).toordinal() + EVENT_WINDOW_AFTER
        days = ((end or LAST_DAY) - start).days + 1
        events.append(
            CastEvent(
                id=pk,
                name=name,
                first=start.toordinal(),
                last=last,
                actors=tuple(index[s] for s in actor_slugs if s in index),
                signals=tuple(signals),
                # Short, sharp events fill the news; long ones are a backdrop.
                share=min(0.35, 0.4 / math.sqrt(1 + days / 10)),
            )
        )
    by_day: dict[int, list[int]] = {}
    for i, event in enumerate(events):
        for day in range(max(event.first, FIRST_DAY.toordinal()), event.last + 1):
            by_day.setdefault(day, []).append(i)

    tokens = set().union(*(a.match_tokens() for a in actors)) if actors else set()
    return Cast(
        actors=actors,
        actor_weights=list(itertools.accumulate(weights)),
        poetin=poetin,
        events=events,
        events_by_day={day: tuple(ids) for day, ids in by_day.items()},
        sources=sources,
        source_weights=_zipf_cumulative(len(sources), SOURCE_ZIPF),
        authors=authors,
        author_weights=_zipf_cumulative(len(authors), AUTHOR_ZIPF),
        vocabulary=Vocabulary.without(frozenset(tokens)),
    )


# ---------------------------------------------------------------------------------
# Words


class Vocabulary:
    """Dutch words with their frequencies, minus anything that would name an actor.

    A piece names an actor only where the generator put the name in: a random "poetin"
    or "rusland" (or "oekraïense", which stems like Oekraïne, or "navo-top", which a
    prefix search for NAVO finds) would make search disagree with the links.
    """

    # Words are drawn through a table of the inverse distribution: one lookup per
    # word instead of a binary search. 2**22 entries resolve frequencies down to
    # 2.4e-7, about that of the 50,000th word.
    TABLE_SIZE = 2**22

    def __init__(self, words: list[str], frequencies: list[float]):
        import numpy

        self.words = words
        self.plain = numpy.array(words, dtype=object)
        self.capital = numpy.array([_capital(w) for w in words], dtype=object)
        cumulative = numpy.cumsum(numpy.array(frequencies, dtype=numpy.float64))
        bounds = numpy.rint(cumulative * (self.TABLE_SIZE / cumulative[-1])).astype(numpy.int64)
        entries = numpy.diff(bounds, prepend=0)
        self.table = numpy.repeat(numpy.arange(len(words), dtype=numpy.int32), entries)

    @classmethod
    @functools.cache
    def without(cls, names: frozenset[str]) -> "Vocabulary":
        import wordfreq

        frequency = wordfreq.get_frequency_dict("nl")
        english = wordfreq.get_frequency_dict("en")
        words = [w for w in dutch_words() if re.fullmatch(r"[^\W\d_]+(['’-][^\W\d_]+)*", w)]
        # Dutch web text is full of English ("page", "event"); commentary is not.
        words = [
            w
            for w in words
            if (len(w) > 1 or w == "u") and english.get(w, 0) <= 2 * frequency.get(w, 0)
        ]
        folded = sorted((fold(w), w) for w in words)
        keys = [f for f, _ in folded]
        blocked = set()
        for name in names:
            blocked.add(name)
            # Prefix search finds longer words from four letters on; the stemmer folds
            # inflections that share all but the last letter of a longer name.
            stems = [(name, 99)] if len(name) >= 4 else []
            if len(name) >= 5:
                stems.append((name[:-1], len(name) + 2))
            for stem, longest in stems:
                i = bisect.bisect_left(keys, stem)
                while i < len(keys) and keys[i].startswith(stem):
                    if len(keys[i]) <= longest:
                        blocked.add(keys[i])
                    i += 1
        kept = [w for w in words if fold(w) not in blocked]
        return cls(kept, [frequency.get(w, 1e-8) for w in kept])

    def draw(self, generator, count: int):
        """Indexes of `count` words drawn by frequency."""
        return self.table[generator.integers(0, self.TABLE_SIZE, count)]


# ---------------------------------------------------------------------------------
# Pieces


@dataclass
class Piece:
    number: int
    title: str
    lead: str
    body: str
    genre: str
    published_on: datetime.date
    precision: str
    source: int | None  # index into Cast.sources
    authors: list[int]  # author ids
    actors: list[tuple[int, int, bool]]  # actor id, mentions, confirmed
    events: list[tuple[int, bool, str]]  # event id, confirmed, evidence
    names_poetin: bool = False
    headings: list[tuple[str, int]] = field(default_factory=list)  # see _with_subheadings

    def slug(self, seed: int) -> str:
        return f"synth-{seed}-{self.number}"


GENRE_NAMES = list(GENRES)
GENRE_WEIGHTS = list(itertools.accumulate(share for share, _ in GENRES.values()))
YEAR_WEIGHTS = _year_weights(1.09)


def generate_block(cast: Cast, seed: int, block: int, limit: int | None = None) -> list[Piece]:
    """Pieces block*BLOCK+1 .. (block+1)*BLOCK for a seed (up to number `limit`): always
    the same ones, however many of the block are asked for.

    The words of all the block's bodies are drawn, cut into sentences and paragraphs
    and punctuated as one stream (numpy), with the names put in between; Python only
    joins each piece's words.
    """
    import numpy

    rng = random.Random(f"kroniek-synthetic:{seed}:{block}")
    generator = numpy.random.default_rng([seed, block])
    vocabulary = cast.vocabulary
    plans = [_plan(cast, rng, block * BLOCK + i + 1) for i in range(BLOCK)]

    lengths = numpy.array([p["length"] for p in plans], dtype=numpy.int64)
    firsts = numpy.concatenate(([0], numpy.cumsum(lengths)[:-1]))
    total = int(lengths.sum())
    drawn = vocabulary.draw(generator, total)
    words = vocabulary.plain[drawn]
    layout = _Layout(generator, firsts, lengths)
    words[layout.starts] = vocabulary.capital[drawn[layout.starts]]
    starts = numpy.zeros(total, dtype=bool)
    starts[layout.starts] = True

    heads = sum(p["title_length"] + p["lead_length"] + 15 * p["subheadings"] for p in plans)
    spare = vocabulary.plain[vocabulary.draw(generator, heads)].tolist()
    # Planning drew the same numbers for every piece of the block; from here on each
    # piece draws only after the ones before it, so a piece past the limit can go.
    wanted = [p for p in plans if limit is None or p["number"] <= limit]
    pieces, offset = [], 0
    for plan, first in zip(wanted, firsts.tolist(), strict=False):
        piece, offset = _write(cast, rng, plan, words, first, starts, spare, offset)
        pieces.append(piece)
    layout.punctuate(words)

    for piece, first, length in zip(pieces, firsts.tolist(), lengths.tolist(), strict=False):
        body = " ".join(words[first : first + length].tolist()).replace("\n\n ", "\n\n")
        if piece.headings:
            body = _with_subheadings(body, piece.headings)
        piece.body = body
    return pieces


class _Layout:
    """Sentence and paragraph ends over the block's word stream: sentences of about
    fifteen words (never fewer than four, never across pieces), a paragraph break after
    three sentences or so, a comma now and then, a question among the statements."""

    def __init__(self, generator, firsts, lengths):
        import numpy

        total = int(lengths.sum())
        lasts = firsts + lengths - 1
        sizes = numpy.clip(generator.lognormal(2.6, 0.35, total // 8 + 64), 4, 40)
        ends = numpy.cumsum(sizes.astype(numpy.int64)) - 1
        while ends[-1] < total:
            more = numpy.clip(generator.lognormal(2.6, 0.35, 64), 4, 40).astype(numpy.int64)
            ends = numpy.concatenate((ends, ends[-1] + numpy.cumsum(more)))
        ends = ends[ends < total]
        piece = numpy.searchsorted(lasts, ends)
        keep = (lasts[piece] - ends >= 4) & (ends - firsts[piece] >= 3)
        self.ends = _merge(ends[keep], lasts)
        self.starts = _merge(firsts, self.ends[:-1] + 1)
        roll = generator.random(len(self.ends))
        self.marks = numpy.where(roll < 0.04, "?", ".").astype(object)
        piece_end = numpy.zeros(total, dtype=bool)
        piece_end[lasts] = True
        inner = self.ends[~piece_end[self.ends]]
        breaks = generator.random(len(inner)) < 0.3
        # Every piece has at least two paragraphs: one without a break gets one halfway.
        piece = numpy.searchsorted(lasts, inner)
        broken = numpy.bincount(piece[breaks], minlength=len(lasts)) > 0
        halfway = numpy.searchsorted(inner, (firsts + lengths // 2)[~broken])
        breaks[numpy.minimum(halfway, len(inner) - 1)] = True
        self.breaks = inner[breaks]
        commas = generator.random(total) < 0.035
        commas[self.ends] = False
        self.commas = numpy.flatnonzero(commas)

    def punctuate(self, words) -> None:
        words[self.commas] = words[self.commas] + ","
        words[self.ends] = words[self.ends] + self.marks
        words[self.breaks] = words[self.breaks] + "\n\n"


def _merge(a, b):
    """The sorted union of two integer arrays (numpy's union1d hashes, slowly)."""
    import numpy

    merged = numpy.sort(numpy.concatenate((a, b)))
    return merged[numpy.concatenate(([True], merged[1:] != merged[:-1]))]


def _with_subheadings(body: str, headings: list[tuple[str, int]]) -> str:
    """A subheading ("## ...") every three to five paragraphs of a long piece: headings
    are (text, paragraphs to the one before)."""
    paragraphs = body.split("\n\n")
    at = len(paragraphs) - 2
    for text, gap in headings:
        if at <= 1:
            break
        paragraphs.insert(at, Article.SUBHEADING + text)
        at -= gap
    return "\n\n".join(paragraphs)


def _plan(cast: Cast, rng, number: int) -> dict:
    """Everything about a piece but its words."""
    genre = GENRE_NAMES[bisect.bisect(GENRE_WEIGHTS, rng.random() * GENRE_WEIGHTS[-1])]
    median = GENRES[genre][1]
    length = int(rng.lognormvariate(math.log(median), LENGTH_SIGMA))
    length = max(MIN_WORDS, min(MAX_WORDS, length))

    year = FIRST_DAY.year + bisect.bisect(YEAR_WEIGHTS, rng.random() * YEAR_WEIGHTS[-1])
    start = datetime.date(year, 1, 1).toordinal()
    day = datetime.date.fromordinal(
        rng.randrange(start, datetime.date(year, 12, 31).toordinal() + 1)
    )
    # Older pieces more often come with only a month or a year.
    age = (LAST_DAY.year - year) / (LAST_DAY.year - FIRST_DAY.year)
    roll = rng.random()
    if roll < 0.01 + 0.06 * age:
        precision, published_on = "year", day.replace(month=1, day=1)
    elif roll < 0.05 + 0.16 * age:
        precision, published_on = "month", day.replace(day=1)
    else:
        precision, published_on = "day", day

    source = author_ids = None
    if cast.authors and not (genre == Genre.COMMENTAAR and rng.random() < 0.9):
        count = 0 if genre == Genre.NIEUWS and rng.random() < 0.25 else 1
        count += genre != Genre.COLUMN and rng.random() < 0.1
        picks = [cast.authors[_pick(rng, cast.author_weights)] for _ in range(count)]
        author_ids = list(dict.fromkeys(pk for pk, _ in picks))
        if picks and rng.random() < 0.88:
            source = picks[0][1]
    if source is None and cast.sources and rng.random() < 0.9:
        source = _pick(rng, cast.source_weights)

    # Actors, most prominent first, with how often each is named.
    chosen: list[int] = []
    count = min(8, int(rng.expovariate(1 / ACTORS_PER_PIECE)))
    for _ in range(count):
        i = _pick(rng, cast.actor_weights)
        if i not in chosen:
            chosen.append(i)
    if cast.poetin is not None and rng.random() < POETIN_SHARE:
        chosen.insert(rng.randint(0, len(chosen)), cast.poetin)

    events, signals = [], []
    for e in cast.events_by_day.get(day.toordinal(), ()):
        event = cast.events[e]
        if len(events) == 2 or rng.random() >= event.share:
            continue
        # Enough evidence for an editor: a signal word, and three signs in all.
        named = rng.sample(event.signals, rng.randint(1, min(3, len(event.signals))))
        candidates = [a for a in event.actors if a != cast.poetin or a in chosen]
        extra = [a for a in rng.sample(candidates, len(candidates)) if a not in chosen]
        wanted = max(3 - len(named) - sum(a in chosen for a in event.actors), rng.randint(0, 2))
        chosen += extra[:wanted]
        missing = 3 - len(named) - sum(a in chosen for a in event.actors)
        if missing > 0:
            named += [s for s in event.signals if s not in named][:missing]
        events.append((e, named))
        signals += named

    mentions = {}
    for rank, i in enumerate(chosen):
        base = (3.0, 1.2, 0.5)[min(rank, 2)]
        mentions[i] = 1 + min(12, int(rng.expovariate(1 / base)))
    return {
        "number": number,
        "genre": genre,
        "length": length,
        "published_on": published_on,
        "precision": precision,
        "source": source,
        "authors": author_ids or [],
        "actors": chosen,
        "mentions": mentions,
        "events": events,
        "signals": signals,
        "reviewed": rng.random() < REVIEWED_SHARE,
        "title_length": rng.randint(5, 12),
        "lead_length": rng.randint(15, 35) if rng.random() < 0.85 else 0,
        "subheadings": length > 700 and rng.random() < 0.5,
    }


def _pick(rng, cumulative: list[float]) -> int:
    return bisect.bisect(cumulative, rng.random() * cumulative[-1])


def _write(cast: Cast, rng, plan: dict, words, first: int, starts, spare, offset: int):
    """A planned piece's headline and intro, and its actors and signal words put in
    the body (words[first:first + length], punctuated later). Returns the piece without
    its body, and the offset of the next unused spare word."""
    length = plan["length"]
    title = spare[offset : offset + plan["title_length"]]
    offset += plan["title_length"]
    lead = spare[offset : offset + plan["lead_length"]]
    offset += plan["lead_length"]
    headings = []
    if plan["subheadings"]:
        for k in range(3):
            text = _sentence(spare[offset + 5 * k : offset + 5 * k + rng.randint(2, 5)])
            headings.append((text, rng.randint(3, 5)))
        offset += 15

    actors = [cast.actors[i] for i in plan["actors"]]
    counts = Counter()
    # The headline names the main actor in almost half the pieces, the intro often.
    in_title = rng.sample(range(len(title)), 2)
    in_lead = rng.randrange(len(lead)) if lead else None
    if actors and rng.random() < 0.45:
        title[in_title[0]] = actors[0].short
        counts[plan["actors"][0]] += 1
    if lead and actors and rng.random() < 0.5:
        i = rng.choice(plan["actors"])
        lead[in_lead] = cast.actors[i].name
        counts[i] += 1
    if plan["signals"] and rng.random() < 0.3:
        title[in_title[1]] = plan["signals"][0]
    # A name of several words takes the place of others: lengths stay as planned.
    title = _fit(title, in_title, plan["title_length"])
    lead = _fit(lead, [in_lead], plan["lead_length"])
    # Every actor is named in the body at least once, each name in a word of its own.
    times = [max(1, plan["mentions"][i] - counts[i]) for i in plan["actors"]]
    repeats = [rng.randint(1, 2) for _ in plan["signals"]]
    slots = iter(rng.sample(range(length), min(length, sum(times) + sum(repeats))))
    for i, actor, n in zip(plan["actors"], actors, times, strict=True):
        for k in range(n):
            words[first + next(slots)] = actor.mention(rng, first=k == 0)
        counts[i] += n
    for word, n in zip(plan["signals"], repeats, strict=True):
        for _ in range(n):
            at = first + next(slots)
            words[at] = _capital(word) if starts[at] else word

    piece = Piece(
        number=plan["number"],
        title=_sentence(title),
        lead=_sentence(lead) + "." if lead else "",
        body="",
        genre=plan["genre"],
        published_on=plan["published_on"],
        precision=plan["precision"],
        source=plan["source"],
        authors=plan["authors"],
        actors=[(cast.actors[i].id, counts[i], plan["reviewed"]) for i in plan["actors"]],
        events=[],
        names_poetin=cast.poetin in counts,
        headings=headings,
    )
    named = set(plan["actors"])
    for e, signals in plan["events"]:
        event = cast.events[e]
        evidence = ["datum past"]
        present = sorted(cast.actors[a].name for a in event.actors if a in named)
        if present:
            evidence.append("actoren: " + ", ".join(present))
        ordered = [s for s in event.signals if s in signals]
        evidence.append("signaalwoorden: " + ", ".join(ordered))
        text = "; ".join(evidence)
        text = text if len(text) <= 300 else text[:299] + "…"
        piece.events.append((event.id, plan["reviewed"], text))
    return piece, offset


def _fit(words: list[str], kept, most: int) -> list[str]:
    """Words without some of those not at the `kept` positions, to at most `most`."""
    excess = sum(w.count(" ") for w in words)
    if not excess:
        return words
    fitted = []
    for k, word in enumerate(words):
        if excess and k not in kept:
            excess -= 1
        else:
            fitted.append(word)
    return fitted


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]


def _sentence(words: list[str]) -> str:
    return _capital(" ".join(words))


# ---------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class Job:
    blocks: tuple[int, ...]
    first_id: int
    limit: int  # the highest piece number wanted
    skip: frozenset[int]  # piece numbers already in the archive


@dataclass
class Tally:
    pieces: int = 0
    actor_links: int = 0
    event_links: int = 0
    author_links: int = 0
    poetin: int = 0
    precision: Counter = field(default_factory=Counter)

    def add(self, other: "Tally") -> None:
        self.pieces += other.pieces
        self.actor_links += other.actor_links
        self.event_links += other.event_links
        self.author_links += other.author_links
        self.poetin += other.poetin
        self.precision.update(other.precision)


def _copy_sql(table: str, columns) -> str:
    return f"COPY {table} ({', '.join(columns)}) FROM STDIN"


def load_job(cursor, cast: Cast, seed: int, job: Job, now, progress=None) -> Tally:
    """Generate and COPY one job's pieces and their links (the caller's transaction)."""
    tally = Tally()
    ids = itertools.count(job.first_id)
    authors, actors, events, keys = [], [], [], []
    with cursor.copy(_copy_sql("archive_article", ARTICLE_COLUMNS)) as copy:
        for block in job.blocks:
            done = 0
            for piece in generate_block(cast, seed, block, job.limit):
                if piece.number > job.limit or piece.number in job.skip:
                    continue
                pk = next(ids)
                slug = piece.slug(seed)
                source_id, url = (
                    cast.sources[piece.source] if piece.source is not None else (None, "")
                )
                copy.write_row(
                    (
                        pk,
                        piece.title,
                        slug,
                        piece.lead,
                        piece.body,
                        piece.genre,
                        piece.published_on,
                        piece.precision,
                        source_id,
                        f"{url}{piece.published_on.year}/{slug}" if url else "",
                        now,
                        now,
                    )
                )
                authors += [(pk, a) for a in piece.authors]
                keys += [(key, pk) for key in fingerprints(piece.body)]
                actors += [(pk, *link) for link in piece.actors]
                events += [(pk, *link) for link in piece.events]
                tally.poetin += piece.names_poetin
                tally.precision[piece.precision] += 1
                done += 1
            tally.pieces += done
            if progress is not None:
                progress(done)
    with cursor.copy(_copy_sql(NearCopyKey._meta.db_table, ("key", "article_id"))) as copy:
        for row in keys:
            copy.write_row(row)
    with cursor.copy(_copy_sql("archive_article_authors", ("article_id", "author_id"))) as copy:
        for row in authors:
            copy.write_row(row)
    with cursor.copy(
        _copy_sql(ArticleActor._meta.db_table, ("article_id", "actor_id", "mentions", "confirmed"))
    ) as copy:
        for row in actors:
            copy.write_row(row)
    with cursor.copy(
        _copy_sql(ArticleEvent._meta.db_table, ("article_id", "event_id", "confirmed", "evidence"))
    ) as copy:
        for row in events:
            copy.write_row(row)
    tally.author_links, tally.actor_links, tally.event_links = (
        len(authors),
        len(actors),
        len(events),
    )
    return tally


def run_job_here(cast: Cast, seed: int, job: Job, now, progress=None) -> Tally:
    """One job on this process's connection, in its own transaction (or savepoint)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        return load_job(cursor, cast, seed, job, now, progress)


# Set by the parent before forking its workers, which inherit it.
_worker_state: dict = {}


def _worker_init():
    # Ctrl-C is the parent's to handle: it stops the pool and restores the indexes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_job(job: Job) -> Tally:
    state = _worker_state
    counter = state["counter"]

    def progress(done):
        with counter.get_lock():
            counter.value += done

    try:
        return run_job_here(state["cast"], state["seed"], job, state["now"], progress)
    finally:
        connection.close()


def run_jobs(cast: Cast, seed: int, jobs: list[Job], workers: int, now, report) -> Tally:
    """Run the jobs, in worker processes when workers > 1; report(done) every few
    seconds with the pieces written so far."""
    total = Tally()
    if workers <= 1:
        done = 0

        def progress(n):
            nonlocal done
            done += n
            report(done)

        for job in jobs:
            total.add(run_job_here(cast, seed, job, now, progress))
        return total

    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    _worker_state.update(cast=cast, seed=seed, now=now, counter=counter)
    connections.close_all()  # each worker opens its own connection
    try:
        with context.Pool(workers, initializer=_worker_init) as pool:
            results = pool.imap_unordered(_worker_job, jobs)
            while True:
                try:
                    total.add(results.next(timeout=PROGRESS_EVERY))
                except StopIteration:
                    break
                except multiprocessing.TimeoutError:
                    pass
                report(counter.value)
    finally:
        _worker_state.clear()
    return total


PROGRESS_EVERY = 5.0


# ---------------------------------------------------------------------------------
# Indexes, numbering, sizes


def secondary_indexes():
    """(model, index) for the named indexes a big load drops and rebuilds afterwards:
    the search GIN indexes and the browse b-trees. Unique indexes stay (they guard the
    data), as do the foreign-key indexes."""
    return [
        (model, index)
        for model in (Article, ArticleActor, ArticleEvent)
        for index in model._meta.indexes
    ]


def existing_index_names(cursor) -> set[str]:
    cursor.execute(
        """
        SELECT indexname FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = ANY(%s)
        """,
        [[Article._meta.db_table, ArticleActor._meta.db_table, ArticleEvent._meta.db_table]],
    )
    return {name for (name,) in cursor.fetchall()}


def drop_indexes(cursor) -> list[str]:
    present = existing_index_names(cursor)
    dropped = []
    for _, index in secondary_indexes():
        if index.name in present:
            cursor.execute(f'DROP INDEX "{index.name}"')
            dropped.append(index.name)
    return dropped


def restore_indexes() -> list[str]:
    """Create every declared secondary index that is missing; returns their names.

    Run after every load, also a failed one, and before every load, so an index lost
    to a killed run comes back the next time.
    """
    with connection.cursor() as cursor:
        present = existing_index_names(cursor)
        missing = [(m, i) for m, i in secondary_indexes() if i.name not in present]
        if not missing:
            return []
        if connection.in_atomic_block:
            # Inside a caller's transaction the new links' foreign-key checks are still
            # pending, and no index can be built on a table with pending checks.
            connection.check_constraints()
        # Index builds sort in memory when they may; the machine has room.
        cursor.execute("SET maintenance_work_mem = '1GB'")
        try:
            with connection.schema_editor() as editor:
                for model, index in missing:
                    editor.add_index(model, index)
        finally:
            cursor.execute("RESET maintenance_work_mem")
    return [index.name for _, index in missing]


def numbers_present(cursor, seed: int) -> set[int]:
    prefix = f"synth-{seed}-"
    cursor.execute(
        """
        SELECT substr(slug, %s)::int FROM archive_article
        WHERE slug LIKE %s AND slug ~ %s
        """,
        [len(prefix) + 1, prefix + "%", f"^{prefix}[0-9]+$"],
    )
    return {n for (n,) in cursor.fetchall()}


def reserve_ids(cursor, count: int) -> int:
    """The first of `count` consecutive free article ids; later inserts start after them."""
    with transaction.atomic():
        # Writers wait while the range is taken; readers do not.
        cursor.execute("LOCK TABLE archive_article IN EXCLUSIVE MODE")
        cursor.execute(
            """
            SELECT GREATEST(nextval(pg_get_serial_sequence('archive_article', 'id')),
                            (SELECT coalesce(max(id), 0) + 1 FROM archive_article))
            """
        )
        (first,) = cursor.fetchone()
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('archive_article', 'id'), %s)",
            [first + max(count, 1) - 1],
        )
    return first


def plan_jobs(limit: int, present: set[int], batch: int, first_id: int, workers=1) -> list[Job]:
    """Jobs of about `batch` pieces (whole blocks), smaller when that keeps every worker
    busy; each with its own range of ids."""
    blocks = range(math.ceil(limit / BLOCK))
    per_job = max(1, min(math.ceil(batch / BLOCK), math.ceil(len(blocks) / workers)))
    jobs, next_id = [], first_id
    for start in range(0, len(blocks), per_job):
        mine = tuple(blocks[start : start + per_job])
        low, high = mine[0] * BLOCK + 1, min(limit, (mine[-1] + 1) * BLOCK)
        skip = frozenset(n for n in present if low <= n <= high)
        count = high - low + 1 - len(skip)
        if count:
            jobs.append(Job(mine, next_id, limit, skip))
            next_id += count
    return jobs


def table_size(cursor, table: str = "archive_article") -> int:
    """Bytes of a table with its TOAST and indexes."""
    cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
    return cursor.fetchone()[0]


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def clock() -> float:
    return time.perf_counter()


# ---------------------------------------------------------------------------------
# JSON Lines, for import_articles


def _date_text(day: datetime.date, precision: str) -> str:
    if precision == "year":
        return f"{day.year}"
    if precision == "month":
        return f"{day.year}-{day.month:02d}"
    return day.isoformat()


def write_jsonl(cursor, cast: Cast, seed: int, count: int, path, progress=None) -> int:
    """Pieces 1..count of a seed as JSON Lines, as a newsroom's export would have them:
    names of source and authors rather than ids, no links (the import suggests them).
    Written to `path` and renamed into place at the end, so a file there is complete.
    Returns the bytes written."""
    import json
    from pathlib import Path

    cursor.execute("SELECT id, name FROM archive_source")
    sources = dict(cursor.fetchall())
    cursor.execute("SELECT id, name FROM archive_author")
    authors = dict(cursor.fetchall())
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    written = 0
    with partial.open("w", encoding="utf-8") as out:
        for block in range(math.ceil(count / BLOCK)):
            for piece in generate_block(cast, seed, block, count):
                if piece.number > count:
                    continue
                source_id, url = (
                    cast.sources[piece.source] if piece.source is not None else (None, "")
                )
                slug = piece.slug(seed)
                row = {
                    "title": piece.title,
                    "lead": piece.lead,
                    "body": piece.body,
                    "genre": piece.genre,
                    "date": _date_text(piece.published_on, piece.precision),
                    "source": sources.get(source_id, ""),
                    "authors": [authors[a] for a in piece.authors if a in authors],
                    "url": f"{url}{piece.published_on.year}/{slug}" if url else "",
                }
                written += out.write(json.dumps(row, ensure_ascii=False) + "\n")
            if progress is not None:
                progress(min((block + 1) * BLOCK, count))
    partial.rename(path)
    return written
