"""The actors and events the known-item benchmark adds to its database before the real
corpus is linked, as an editor of a 2019 archive would have them.

The corpus names many places only by their adjective (a "Chinese" company, the
"Brusselse" agenda) and much of the news of spring 2019 without the name readers give
it (the Statenverkiezingen, the attack in Christchurch). Known items of the kinds
"place adjective" and "event name" (archive/management/commands/known_items.py) are
found only through these subjects: the places with their derived forms, the events
with their dates, actors and signal words, linked by the archive's own suggestions
(archive/tagging.py). Names, dates and words only: no text of the corpus.

The seed fixture's actors (Rusland, Oekraïne, Verenigde Staten, ...) are used as they
are and not repeated here.
"""

import datetime

from archive.models import Actor, Article, Event
from archive.tagging import Vocabulary, apply_suggestions

# slug -> (name, kind, aliases, derived forms: adjectives and demonyms)
ACTORS = {
    "brussel": ("Brussel", "place", ["Bruxelles"], ["Brussels", "Brusselse"]),
    "china": ("China", "country", ["Volksrepubliek China"], ["Chinees", "Chinese", "Chinezen"]),
    "den-haag": (
        "Den Haag",
        "place",
        ["'s-Gravenhage"],
        ["Haags", "Haagse", "Hagenaar", "Hagenaars"],
    ),
    "duitsland": ("Duitsland", "country", [], ["Duits", "Duitse", "Duitser", "Duitsers"]),
    # "Frans" is also a first name (Frans Timmermans): not among the forms.
    "frankrijk": ("Frankrijk", "country", [], ["Franse", "Fransen", "Fransman"]),
    "italie": ("Italië", "country", [], ["Italiaans", "Italiaanse", "Italiaan", "Italianen"]),
    "nieuw-zeeland": (
        "Nieuw-Zeeland",
        "country",
        [],
        ["Nieuw-Zeelands", "Nieuw-Zeelandse", "Nieuw-Zeelander", "Nieuw-Zeelanders"],
    ),
    "turkije": ("Turkije", "country", [], ["Turks", "Turkse", "Turk", "Turken"]),
    "utrecht": ("Utrecht", "place", [], ["Utrechts", "Utrechtse", "Utrechter", "Utrechters"]),
    "verenigd-koninkrijk": (
        "Verenigd Koninkrijk",
        "country",
        ["Groot-Brittannië", "Brittannië"],
        ["Brits", "Britse", "Brit", "Britten"],
    ),
    "europese-unie": ("Europese Unie", "organisation", ["EU"], []),
    "forum-voor-democratie": ("Forum voor Democratie", "organisation", ["FvD"], []),
    "gokmen-tanis": ("Gökmen Tanis", "person", ["Gökmen T."], []),
    "jacinda-ardern": ("Jacinda Ardern", "person", [], []),
    "theresa-may": ("Theresa May", "person", [], []),
    "thierry-baudet": ("Thierry Baudet", "person", [], []),
}

# slug -> (name, first day, last day, actor slugs, signal words). The names are what
# readers call them, and what the "event name" queries use.
EVENTS = {
    "statenverkiezingen-2019": (
        "Provinciale Statenverkiezingen 2019",
        datetime.date(2019, 3, 20),
        datetime.date(2019, 3, 20),
        ["forum-voor-democratie", "thierry-baudet"],
        [
            "statenverkiezingen",
            "provinciale staten",
            "exitpoll",
            "uitslagenavond",
            "verkiezingsuitslag",
            "verkiezingswinst",
            "zetels",
            "Eerste Kamer",
            "stembus",
        ],
    ),
    "aanslag-christchurch": (
        "Aanslag in Christchurch",
        datetime.date(2019, 3, 15),
        datetime.date(2019, 3, 15),
        ["nieuw-zeeland", "jacinda-ardern"],
        ["Christchurch", "moskee", "moskeeën", "moskeegangers", "schutter", "aanslag"],
    ),
    "tramaanslag-utrecht": (
        "Tramaanslag in Utrecht",
        datetime.date(2019, 3, 18),
        datetime.date(2019, 3, 18),
        ["utrecht", "gokmen-tanis"],
        ["tram", "24 Oktoberplein", "schutter", "schietpartij", "aanslag", "tramslachtoffers"],
    ),
    "uitstel-brexit": (
        "Uitstel van de brexit",
        datetime.date(2019, 3, 21),
        datetime.date(2019, 4, 11),
        ["theresa-may", "verenigd-koninkrijk", "europese-unie"],
        ["brexit", "uitstel", "Lagerhuis", "deadline", "EU-top", "no deal", "vertrek"],
    ),
}


def _has_derived_forms() -> bool:
    # Archives from before derived forms existed have no such field; the benchmark runs
    # on both, so the "before" figures can be measured with the same known items.
    return any(field.name == "derived_forms" for field in Actor._meta.get_fields())


def add_subjects() -> int:
    """Create the actors and events that are not there yet. An archive's own (by slug:
    a generated cast has many of these places) keep their names; where derived forms
    exist and such an actor has none, it gets these, so a place adjective is found alike
    in every benchmark database. Returns how many actors and events were created or
    given derived forms."""
    derived = _has_derived_forms()
    changed = 0
    for slug, (name, kind, aliases, forms) in ACTORS.items():
        defaults = {"name": name, "kind": kind, "aliases": aliases}
        if derived:
            defaults["derived_forms"] = forms
        actor, new = Actor.objects.get_or_create(slug=slug, defaults=defaults)
        if not new and derived and forms and not actor.derived_forms:
            actor.derived_forms = forms
            actor.save(update_fields=["derived_forms"])
            new = True
        changed += new
    for slug, (name, start, end, actor_slugs, words) in EVENTS.items():
        event, new = Event.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "start_date": start, "end_date": end, "signal_words": words},
        )
        if new:
            event.actors.set(Actor.objects.filter(slug__in=actor_slugs))
        changed += new
    return changed


def link_pieces(pks) -> tuple[int, int]:
    """Run the archive's suggestions over these pieces, as an import does for each piece
    it stores: (actor links, event links) created."""
    vocabulary = Vocabulary.load()
    actors = events = 0
    for article in Article.objects.filter(pk__in=list(pks)).order_by("pk").iterator():
        done = apply_suggestions(article, vocabulary)
        actors += done.actors
        events += done.events
    return actors, events
