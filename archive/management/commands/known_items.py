"""Known-item queries: what a reader types to find a piece they remember.

Most are over the DPG news corpus (../shared/corpus/dpg-news-2019.jsonl.gz), keyed by
the corpus row "id"; a few over the seed pieces (fixtures/seed_articles.json), keyed by
slug. Each query is a few words, written by hand after reading its target; no text of
the articles is kept here. The piece is expected in the top 3.

Every item has a kind, so the benchmarks report what kind of memory search serves and
what kind it fails:

- remembered words: every word is in the piece, in some inflection or without its
  diacritics (patienten for patiënten);
- word in another form or absent: a word the piece has only in another form
  (treedt af / afgetreden, Zelenski / Zelensky, gelijkspel / gelijk) or not at all;
- compound tail: a word the piece has only as the tail or middle of a compound
  (akkoord in klimaatakkoord, verkiezingen in Statenverkiezingen, racisme in
  antiracismedemonstratie);
- place adjective: a country or place the piece names only by its adjective or its
  people (Rusland / Russische, Oekraine / Oekraïners);
- event name: the name of an event the piece is linked to but never uses (muiterij for
  the pieces on Wagner's mutiny), with a word or two the piece does have.

The last two are found only through the archive's actors and events: the seed
fixture's, and those the benchmark adds (archive/management/benchmarking/subjects.py),
linked by the archive's suggestions when the corpus is imported.
"""

from itertools import zip_longest
from typing import NamedTuple

REMEMBERED = "remembered"
OTHER_FORM = "other_form"
COMPOUND_TAIL = "compound_tail"
PLACE_ADJECTIVE = "place_adjective"
EVENT_NAME = "event_name"

# Kind -> label, in report order.
KINDS = {
    REMEMBERED: "remembered words",
    OTHER_FORM: "word in another form or absent",
    COMPOUND_TAIL: "compound tail",
    PLACE_ADJECTIVE: "place adjective",
    EVENT_NAME: "event name",
}


class KnownItem(NamedTuple):
    target: int | str  # corpus row id, or the slug of a seed piece
    query: str
    kind: str


# The kinds search finds from a piece's own text; tests/test_search_quality.py holds
# them to its bar.
KNOWN_ITEMS: list[KnownItem] = [
    KnownItem(10750666, "spotprent Oppenheimer bedreiging politici", REMEMBERED),
    KnownItem(10726541, "tbs patienten wandelen Poortugaal", REMEMBERED),
    KnownItem(10674293, "vierling Bodegraven vijftigste verjaardag", REMEMBERED),
    KnownItem(10677688, "letterzetter kever sparren Holterberg", REMEMBERED),
    KnownItem(10793084, "Britse paspoorten zonder Europese Unie", REMEMBERED),
    KnownItem(10679523, "linkse scherpslijpers witte schuld", REMEMBERED),
    KnownItem(10761893, "politicoloog stemgedrag hoofdstad Statenverkiezing", REMEMBERED),
    KnownItem(10796937, "messteek vechtpartij Hoofddorp jongeren", REMEMBERED),
    KnownItem(10670010, "Sorqvist psycholoog bomen planten vliegen", REMEMBERED),
    KnownItem(10681912, "Yousra Uithoorn kalifaat bewijs", REMEMBERED),
    KnownItem(10773098, "Goes eenzaamheid inwoners aanpak", REMEMBERED),
    KnownItem(10772810, "priester Valkering geschorst celibaat", REMEMBERED),
    KnownItem(10677260, "Jetten meer arbeidsmigranten interview", REMEMBERED),
    KnownItem(10741448, "bankje Dick Bruna nijntje Utrecht", REMEMBERED),
    KnownItem(10679693, "straatnamen vernoemd naar vrouwen", REMEMBERED),
    KnownItem(10772624, "traumahelikopter fietser Zierikzee gewond", REMEMBERED),
    KnownItem(10672717, "ransuil nieuwe veren transplantatie", REMEMBERED),
    KnownItem(10795454, "gevluchte leraren Syrie basisscholen", REMEMBERED),
    KnownItem(10686201, "broers Atasoy Haga Lyceum", REMEMBERED),
    KnownItem(10803265, "demonstrante paf Baudet taakstraf", REMEMBERED),
    KnownItem(10801196, "Max Pam Engelsen opgehoepeld", REMEMBERED),
    KnownItem(10672750, "masteropleiding selectie studenten Keuzegids", REMEMBERED),
    KnownItem(10797191, "weeshuistoerisme Kaag onderzoek", REMEMBERED),
    KnownItem(10768009, "Schwaab eigen doelpunt Ajax PSV", REMEMBERED),
    KnownItem(10673488, "cocaine schattingen korrel zout", REMEMBERED),
    KnownItem(10740516, "Canadese ambassadeur herdenking Etten", REMEMBERED),
    KnownItem(10673483, "koopkracht CPB stijgt niets merken", REMEMBERED),
    KnownItem(10686271, "cokedeal Den Bosch acht jaar", REMEMBERED),
    KnownItem(10751308, "Boeing 737 MAX noodlanding Orlando", REMEMBERED),
    KnownItem(10772347, "Molukse wijk Maastricht huis verhuurd", REMEMBERED),
    KnownItem(10726008, "Rwandese man opgepakt genocide Leersum", REMEMBERED),
    KnownItem(10796543, "snorfiets rijbaan Wibautstraat helm", REMEMBERED),
    KnownItem(10682031, "kunstgras recycling fabriek Brabant Deens", REMEMBERED),
    KnownItem(10751700, "brouwerij Frontaal proeflokaal Breda Faam", REMEMBERED),
    KnownItem(10795468, "arrestaties aanslag Telegraaf pand", REMEMBERED),
    KnownItem(10730743, "Brabantse uitslagenavond provinciehuis", REMEMBERED),
    KnownItem(10680571, "Rob de Wijk Trump Kim dealmaker", REMEMBERED),
    KnownItem(10670884, "Guaido terug Venezuela luchthaven", REMEMBERED),
    KnownItem(10772713, "Bouteflika stapt op april", REMEMBERED),
    KnownItem(10766162, "kaasmeisjes Alkmaar kaasmarkt lezersbrief", OTHER_FORM),
    KnownItem(10803048, "migranten zonder papieren schoolgebouw Nieuw-West", OTHER_FORM),
    KnownItem(10672713, "Hillegommer collega ijzeren staaf cel", OTHER_FORM),
    KnownItem(10780205, "passie Christenhusz Oldenzaal componist", OTHER_FORM),
    KnownItem(10743017, "migratieachtergrond Baudet boreaal onveilig", OTHER_FORM),
    KnownItem(10794115, "palmpasen optocht kerken Oud Gastel", OTHER_FORM),
    KnownItem(10742075, "straatrace Nijmegen rijbewijs ingenomen", OTHER_FORM),
    KnownItem(10794116, "Vitesse PSV gelijkspel Sloetski", OTHER_FORM),
    KnownItem(10796939, "Iraanse Revolutionaire Garde terroristen Trump", OTHER_FORM),
    KnownItem(10776565, "Bouteflika treedt af", OTHER_FORM),
    KnownItem(10766115, "Čaputová wint presidentsverkiezing Slowakije", OTHER_FORM),
    KnownItem(10767320, "Zelenski komiek Oekraine president", OTHER_FORM),
    KnownItem(10761954, "Orban Europese waarden christendemocraten", OTHER_FORM),
]

# The kinds added to measure compounds, derived forms of places and event names, before
# and after search learned them.
COMPOUND_TAILS: list[KnownItem] = [
    KnownItem(10749319, "restzetel ChristenUnie verkiezingen", COMPOUND_TAIL),
    KnownItem(10729718, "D66 verlies verkiezingen", COMPOUND_TAIL),
    KnownItem(10682792, "VVD frietjes snijden verkiezingen", COMPOUND_TAIL),
    KnownItem(10746777, "akkoord pensioenen senaat", COMPOUND_TAIL),
    KnownItem(10796556, "Libie akkoord Haftar", COMPOUND_TAIL),
    KnownItem(10777816, "Johnson akkoord May opvolger", COMPOUND_TAIL),
    KnownItem(10780283, "kabinet akkoord Syriegangers", COMPOUND_TAIL),
    KnownItem(10670562, "oorlog China consumenten", COMPOUND_TAIL),
    KnownItem(10742224, "crisis Conservatieve Partij May", COMPOUND_TAIL),
    KnownItem(10751498, "moord mislukte deal", COMPOUND_TAIL),
    KnownItem(10766113, "rechter slaat doelman", COMPOUND_TAIL),
    KnownItem(10792083, "ongeluk Schelde gewonden", COMPOUND_TAIL),
    KnownItem(10741846, "racisme demonstratie Baudet", COMPOUND_TAIL),
    KnownItem(10799163, "voetbal vrouwen Eindhoven Australie", COMPOUND_TAIL),
]

PLACE_ADJECTIVES: list[KnownItem] = [
    KnownItem(10765374, "Oekraine sigaretten", PLACE_ADJECTIVE),
    KnownItem(10670840, "Rusland jacht", PLACE_ADJECTIVE),
    KnownItem(10746858, "Rusland inmenging", PLACE_ADJECTIVE),
    KnownItem(10729046, "gevangenen Verenigde Staten haar", PLACE_ADJECTIVE),
    KnownItem(10804142, "Amerika presidenten beelden", PLACE_ADJECTIVE),
    KnownItem(10747481, "Duitsland metaaldief", PLACE_ADJECTIVE),
    KnownItem(10593543, "Turkije groente", PLACE_ADJECTIVE),
    KnownItem(10741845, "Frankrijk gele hesjes", PLACE_ADJECTIVE),
    KnownItem(10672995, "Frankrijk KLM aandelen", PLACE_ADJECTIVE),
    KnownItem(10686219, "Den Haag spookwoningen", PLACE_ADJECTIVE),
    KnownItem(10751012, "Groot-Brittannie Lagerhuis", PLACE_ADJECTIVE),
    KnownItem(10667947, "Italie slippers", PLACE_ADJECTIVE),
    KnownItem(10670564, "Brussel zomertijd", PLACE_ADJECTIVE),
    KnownItem(10679558, "China Huawei verbod", PLACE_ADJECTIVE),
]

EVENT_NAMES: list[KnownItem] = [
    KnownItem("de-bijna-coup-kent-aan-russische-kant-alleen-verliezers", "muiterij", EVENT_NAME),
    KnownItem(
        "opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is",
        "Wagner muiterij",
        EVENT_NAME,
    ),
    KnownItem(
        "soldatenvrouwen-confronteren-commandant-dugin-roept-verhuld-op-tot-moord-op-poetin",
        "Russische mobilisatie",
        EVENT_NAME,
    ),
    KnownItem(10730577, "Statenverkiezingen CDA versplintering", EVENT_NAME),
    KnownItem(10730576, "Statenverkiezingen VVD feest", EVENT_NAME),
    KnownItem(10730395, "Statenverkiezingen Forum aanhang", EVENT_NAME),
    KnownItem(10742655, "Statenverkiezingen toekomst kabinet", EVENT_NAME),
    KnownItem(10746850, "tramaanslag herdenking", EVENT_NAME),
    KnownItem(10791949, "tramaanslag begrafenis", EVENT_NAME),
    KnownItem(10741943, "tramaanslag monument", EVENT_NAME),
    KnownItem(10723154, "tramaanslag verdachte drugsdealer", EVENT_NAME),
    KnownItem(10723127, "Christchurch premier naam dader", EVENT_NAME),
    KnownItem(10779955, "uitstel brexit May Corbyn", EVENT_NAME),
    KnownItem(10780084, "uitstel brexit Lagerhuis stemming", EVENT_NAME),
]

# What the benchmarks ask: every kind.
ALL_ITEMS: list[KnownItem] = [*KNOWN_ITEMS, *COMPOUND_TAILS, *PLACE_ADJECTIVES, *EVENT_NAMES]


def first_of_each_kind(items: list[KnownItem], n: int) -> list[KnownItem]:
    """`n` items taken from every kind in turn, so a short run (a smoke test) still has
    every kind; all of them when n is 0 or more than there are."""
    if n <= 0 or n >= len(items):
        return list(items)
    by_kind: dict[str, list[KnownItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    in_turn = [item for row in zip_longest(*by_kind.values()) for item in row if item]
    return in_turn[:n]


def by_kind(items, values) -> dict[str, list]:
    """The values (one per item, in order) grouped by the items' kinds, in KINDS order."""
    groups: dict[str, list] = {kind: [] for kind in KINDS}
    for item, value in zip(items, values, strict=True):
        groups.setdefault(item.kind, []).append(value)
    return {kind: found for kind, found in groups.items() if found}
