"""Django admin for editors: lists, filters, suggested links to confirm or reject,
alias re-checks and the history of who changed what."""

import re

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import slugify

from archive import admin as archive_admin
from archive import tagging
from archive.admin import AdminPaginator, ArticleActorFilter, ArticleSourceFilter, Estimate
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
from tests.factories import make_article, run_tasks
from tests.seeds import SEED_SLUGS, seed_text

pytestmark = pytest.mark.django_db

# The models editors add and change (the re-checks' list is read only).
ARCHIVE_MODELS = [
    model
    for model in admin.site._registry
    if model._meta.app_label == "archive" and model is not Recheck
]
ALL_MODELS = list(admin.site._registry)
# A text of our own naming two actors, for when the seed texts are not at hand.
OWN_TEXT = (
    "Prigozjin trok met zijn Wagnersoldaten op naar Moskou. De Wagner-groep stopte "
    "pas toen Loekasjenko bemiddelde. Poetin sprak van verraad; Prigozjin noemde het "
    "een mars voor gerechtigheid."
)
# List pages: session, user, the page's rows and counts, one query per filter that
# lists choices from the database (source, actor, event, user, content type), and for a
# search the events its words may name and their links, with room to spare; never a
# query per row.
LIST_QUERIES = 17
# A piece's page: session, user, the piece with its authors and rejected links, its
# link rows, and one query per picker that shows chosen rows (source, authors); never
# one per link.
CHANGE_QUERIES = 12


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def shown(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def row_of(response, text):
    """The HTML of the list row that mentions `text`."""
    html = response.content.decode()
    start = html.rindex("<tr", 0, html.index(text))
    return html[start : html.index("</tr>", start)]


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def form_data(response) -> dict:
    """The POST data of an admin add or change form as it was rendered: the main form,
    every inline formset with its management form, each field at its initial value."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(field, forms.ModelMultipleChoiceField):
                data[key] = [str(v) for v in value or []]
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def row_prefix(response, link_name, pk_of_other):
    """The form prefix of the inline row linking to actor/event pk_of_other."""
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if getattr(form.instance, f"{link_name}_id", None) == pk_of_other:
                return form.prefix
    raise AssertionError(f"no {link_name} row for {pk_of_other}")


def add_inline_row(data, prefix, **values):
    """Append a new row to the formset `prefix` in POST data."""
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    for name, value in values.items():
        data[f"{prefix}-{n}-{name}"] = value
    return data


def new_piece_data(staff_client, title, body):
    data = form_data(staff_client.get(reverse("admin:archive_article_add")))
    data.update(
        title=title,
        slug=slugify(title),
        lead="",
        body=body,
        genre="column",
        published_on="2023-06-01",
        date_precision="month",
        _save="Opslaan",
    )
    return data


# Every list


def test_every_archive_model_is_in_admin():
    names = {model.__name__ for model in ARCHIVE_MODELS}
    assert {"Article", "Actor", "Event", "Source", "Author"} <= names


@pytest.mark.parametrize("model", ARCHIVE_MODELS, ids=lambda m: m.__name__)
def test_admin_list_and_add_pages_open(staff_client, model, django_assert_max_num_queries):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    with django_assert_max_num_queries(LIST_QUERIES):
        listing = staff_client.get(reverse(f"{prefix}_changelist"))
    assert listing.status_code == 200
    assert staff_client.get(reverse(f"{prefix}_add")).status_code == 200
    obj = model.objects.first()
    change = staff_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
    assert change.status_code == 200


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_admin_list_has_search(staff_client, model, django_assert_max_num_queries):
    assert admin.site._registry[model].search_fields, "autocomplete and the search box need it"
    with django_assert_max_num_queries(LIST_QUERIES):
        response = staff_client.get(changelist(model), {"q": "Poetin"})
    assert response.status_code == 200
    assert 'id="searchbar"' in response.content.decode()


def test_admin_list_pages_need_no_query_per_row(staff_client, django_assert_max_num_queries):
    for n in range(30):
        article = make_article(f"Bericht {n} over Poetin en Wagner.")
        article.authors.create(name=f"Auteur {n}", slug=f"auteur-{n}")
    for model in ARCHIVE_MODELS:
        with django_assert_max_num_queries(LIST_QUERIES):
            assert staff_client.get(changelist(model)).status_code == 200


def test_admin_article_search_uses_dutch_stemming(staff_client):
    response = staff_client.get(changelist(Article), {"q": "Poetins"})
    found = shown(response)
    assert found == set(Article.objects.search("Poetin").values_list("pk", flat=True))
    assert len(found) >= 3


def test_admin_is_closed_to_anonymous_readers(client):
    response = client.get(changelist(Article))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# The list of pieces


def test_article_list_shows_month_precision_date_as_month(staff_client):
    article = Article.objects.get(date_precision="month", published_on="2023-06-01")
    row = row_of(staff_client.get(changelist(Article)), article.title)
    assert ">juni 2023<" in row
    assert "1 juni 2023" not in row


def test_article_list_links_to_the_public_page(staff_client):
    article = Article.objects.first()
    row = row_of(staff_client.get(changelist(Article)), article.title)
    assert f'href="{article.get_absolute_url()}"' in row
    assert 'target="_blank"' in row
    change_url = reverse("admin:archive_article_change", args=[article.pk])
    assert f'href="{change_url}"' in row


def test_article_list_tells_confirmed_links_from_suggested(staff_client):
    article = Article.objects.get(slug="de-bijna-coup-kent-aan-russische-kant-alleen-verliezers")
    actors, events = article.actor_links.count(), article.event_links.count()
    extra = Actor.objects.exclude(article_links__article=article)[:2]
    for actor in extra:
        ArticleActor.objects.create(article=article, actor=actor, mentions=1)
    row = row_of(staff_client.get(changelist(Article)), article.title)
    assert f"{actors + events} bevestigd · " in row
    assert '<span class="link-suggested">2 voorgesteld</span>' in row
    assert f"actoren: {actors} bevestigd, 2 voorgesteld; gebeurtenissen: {events} bevestigd" in row


def test_actor_filter_narrows_to_the_actors_pieces(staff_client):
    wagner = Actor.objects.get(slug="wagner")
    response = staff_client.get(changelist(Article), {"actor": wagner.pk})
    expected = set(ArticleActor.objects.filter(actor=wagner).values_list("article", flat=True))
    assert shown(response) == expected
    assert 0 < len(expected) < Article.objects.count()


def test_actor_filter_stays_short_and_offers_the_selected_actor(staff_client):
    rare = Actor.objects.get(slug="samvel-yurievich")
    response = staff_client.get(changelist(Article), {"actor": rare.pk})
    spec = next(f for f in response.context["cl"].filter_specs if isinstance(f, ArticleActorFilter))
    choices = dict(spec.lookup_choices)
    assert choices[str(rare.pk)] == rare.name
    assert len(choices) <= 13 < Actor.objects.count()


def test_a_nonsense_filter_value_is_no_error_page(staff_client):
    response = staff_client.get(changelist(Article), {"actor": "'; drop"})
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_event_filter_narrows_to_the_events_pieces(staff_client):
    link = ArticleEvent.objects.select_related("event").first()
    response = staff_client.get(changelist(Article), {"gebeurtenis": link.event.pk})
    expected = set(ArticleEvent.objects.filter(event=link.event).values_list("article", flat=True))
    assert shown(response) == expected
    assert len(expected) < Article.objects.count()


def test_suggestions_filter_finds_open_confirmed_and_untagged_pieces(staff_client):
    open_piece = Article.objects.get(
        slug="opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is"
    )
    ArticleActor.objects.create(
        article=open_piece, actor=Actor.objects.get(slug="navo"), mentions=1
    )
    bare = make_article("Een stuk over niemand in het bijzonder.")
    url = changelist(Article)
    seeds = set(Article.objects.exclude(pk=bare.pk).values_list("pk", flat=True))
    assert shown(staff_client.get(url, {"voorstellen": "open"})) == {open_piece.pk}
    assert shown(staff_client.get(url, {"voorstellen": "bevestigd"})) == seeds - {open_piece.pk}
    assert shown(staff_client.get(url, {"voorstellen": "zonder"})) == {bare.pk}


def test_confirm_action_confirms_every_suggestion_of_the_selected_pieces(staff_client):
    article = Article.objects.first()
    other = Article.objects.exclude(pk=article.pk).first()
    for piece in (article, other):
        ArticleActor.objects.create(
            article=piece, actor=Actor.objects.exclude(article_links__article=piece).first()
        )
    response = staff_client.post(
        changelist(Article),
        {"action": "confirm_suggestions", "_selected_action": [article.pk]},
    )
    assert response.status_code == 302
    assert not article.actor_links.filter(confirmed=False).exists()
    assert other.actor_links.filter(confirmed=False).exists()
    entry = LogEntry.objects.get(object_id=str(article.pk), action_flag=CHANGE)
    assert entry.user == staff_client.user


# Adding a piece and judging its suggestions


@pytest.fixture(params=["own", "seed"])
def wagner_text(request, db):
    if request.param == "own":
        return OWN_TEXT
    name = "000_e5e2b52ac800a774.txt"
    text = seed_text(name)
    # The fixtures hold this seed already; the duplicate check would refuse it.
    Article.objects.filter(slug=SEED_SLUGS[name]).delete()
    return text


def test_new_piece_gets_suggestions_to_confirm_or_reject(staff_client, wagner_text):
    prigozjin = Actor.objects.get(slug="jevgeni-prigozjin")
    add = staff_client.post(
        reverse("admin:archive_article_add"),
        new_piece_data(staff_client, "De opmars van Wagner", wagner_text),
    )
    assert add.status_code == 302, add.context and add.context["adminform"].form.errors
    article = Article.objects.get(title="De opmars van Wagner")
    change_url = reverse("admin:archive_article_change", args=[article.pk])
    # The editor lands on the piece, with the suggestions waiting.
    assert add["Location"] == change_url
    assert any("voorgesteld; bevestig of wijs af hieronder" in m for m in messages_of(add))
    links = {link.actor.slug: link for link in article.actor_links.select_related("actor")}
    assert {"jevgeni-prigozjin", "wagner"} <= set(links)
    assert not any(link.confirmed for link in links.values())

    form = staff_client.get(change_url)
    html = form.content.decode()
    assert '<span class="link-suggested">voorgesteld</span>' in html
    assert "Afgewezen voorstellen" in html
    rejected = next(link.actor for link in links.values() if link.actor != prigozjin)
    data = form_data(form)
    data[f"{row_prefix(form, 'actor', prigozjin.pk)}-confirmed"] = "on"
    data[f"{row_prefix(form, 'actor', rejected.pk)}-DELETE"] = "on"
    data["_save"] = "Opslaan"
    change = staff_client.post(change_url, data)
    assert change.status_code == 302, change.context and change.context["errors"]
    # The text did not change, so nothing new was suggested: back to the list.
    assert change["Location"].startswith(changelist(Article))

    assert article.actor_links.get(actor=prigozjin).confirmed
    assert not article.actor_links.filter(actor=rejected).exists()
    assert list(article.rejected_actors.all()) == [rejected]
    tagging.apply_suggestions(article)
    assert not article.actor_links.filter(actor=rejected).exists()
    assert article.actor_links.filter(actor=prigozjin, confirmed=True).exists()


def test_linking_a_rejected_actor_by_hand_takes_the_rejection_back(staff_client):
    article = make_article(OWN_TEXT)
    navo = Actor.objects.get(slug="navo")
    article.rejected_actors.add(navo)
    change_url = reverse("admin:archive_article_change", args=[article.pk])
    data = form_data(staff_client.get(change_url))
    add_inline_row(data, "actor_links", actor=str(navo.pk), confirmed="on")
    data["_save"] = "Opslaan"
    assert staff_client.post(change_url, data).status_code == 302
    assert not article.rejected_actors.exists()
    assert article.actor_links.get(actor=navo).confirmed


def test_a_row_added_by_hand_starts_confirmed(staff_client):
    response = staff_client.get(reverse("admin:archive_article_add"))
    empty = response.context["inline_admin_formsets"][0].formset.empty_form
    assert empty["confirmed"].value() is True


def test_changing_the_text_suggests_again_and_stays_on_the_piece(staff_client):
    article = make_article("Een stuk over niemand in het bijzonder.")
    change_url = reverse("admin:archive_article_change", args=[article.pk])
    data = form_data(staff_client.get(change_url))
    data.update(body=OWN_TEXT, _save="Opslaan")
    response = staff_client.post(change_url, data)
    assert response.status_code == 302
    assert response["Location"] == change_url
    assert article.actor_links.filter(actor__slug="jevgeni-prigozjin", confirmed=False).exists()


# Actors: a new name re-checks the pieces


def test_new_alias_rechecks_existing_pieces(staff_client):
    piece = make_article("De Kroniekvogel zong weer. Niemand hoorde de Kroniekvogel.")
    actor = Actor.objects.create(name="Karel Testman", slug="karel-testman", kind="person")
    change_url = reverse("admin:archive_actor_change", args=[actor.pk])
    data = form_data(staff_client.get(change_url))
    data.update(aliases="Kroniekvogel", _save="Opslaan")
    response = staff_client.post(change_url, data)
    assert response.status_code == 302
    assert "Nieuwe naam “Kroniekvogel”: het archief loopt de stukken op de achtergrond na" in (
        " ".join(messages_of(response))
    )
    # The editor did not wait for it: the re-check is queued, and shown on the actor.
    assert not ArticleActor.objects.filter(article=piece, actor=actor).exists()
    assert "wacht op zijn beurt" in staff_client.get(change_url).content.decode()
    run_tasks()
    link = ArticleActor.objects.get(article=piece, actor=actor)
    assert not link.confirmed
    assert link.mentions == 2
    recheck = Recheck.objects.get(actor=actor)
    assert (recheck.status, recheck.pieces, recheck.checked, recheck.changed) == ("done", 1, 1, 1)
    page = staff_client.get(change_url).content.decode()
    assert "wacht op zijn beurt" not in page
    assert re.search(r"Nalopen:</label>\s*<div class=\"readonly\">geen</div>", page)
    # Who did it is on record.
    entry = LogEntry.objects.get(object_id=str(actor.pk), action_flag=CHANGE)
    assert entry.user == staff_client.user
    history = staff_client.get(changelist(LogEntry), {"q": "Karel Testman"})
    assert shown(history) == {entry.pk}
    assert "Wijzigingen" in history.content.decode()


def test_saving_an_actor_without_new_names_rechecks_nothing(staff_client, monkeypatch):
    calls = []
    monkeypatch.setattr(tagging, "recheck_actor", lambda *a, **k: calls.append(a) or 0)
    actor = Actor.objects.get(slug="wagner")
    change_url = reverse("admin:archive_actor_change", args=[actor.pk])
    data = form_data(staff_client.get(change_url))
    data.update(description="Huurlingenleger.", _save="Opslaan")
    assert staff_client.post(change_url, data).status_code == 302
    assert calls == []


def test_recheck_action_runs_over_all_names(staff_client):
    piece = make_article("Volgens Testmansson was het voorbij.")
    actor = Actor.objects.create(name="Testmansson", slug="testmansson", kind="organisation")
    response = staff_client.post(
        changelist(Actor), {"action": "recheck_pieces", "_selected_action": [actor.pk]}
    )
    assert response.status_code == 302
    run_tasks()
    assert ArticleActor.objects.filter(article=piece, actor=actor, confirmed=False).exists()


def test_actor_list_counts_pieces_and_links_to_them(staff_client):
    wagner = Actor.objects.get(slug="wagner")
    row = row_of(staff_client.get(changelist(Actor)), f">{wagner.name}<")
    pieces = wagner.article_links.count()
    assert f'href="{changelist(Article)}?actor={wagner.pk}"' in row
    assert f"{pieces} bevestigd" in row
    assert f'href="{wagner.get_absolute_url()}"' in row


def test_event_list_shows_dates_and_pieces(staff_client):
    event = Event.objects.filter(article_links__isnull=False).first()
    row = row_of(staff_client.get(changelist(Event)), f">{event.name}<")
    assert re.search(r"\d{4}", row)
    assert f"?gebeurtenis={event.pk}" in row
    assert f'href="{event.get_absolute_url()}"' in row


# History


def test_history_is_read_only(staff_client):
    assert staff_client.get(reverse("admin:admin_logentry_add")).status_code == 403
    entry = LogEntry.objects.log_actions(
        user_id=staff_client.user.pk,
        queryset=Actor.objects.filter(slug="wagner"),
        action_flag=CHANGE,
        change_message="test",
        single_object=True,
    )
    page = staff_client.get(reverse("admin:admin_logentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    delete = reverse("admin:admin_logentry_delete", args=[entry.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_history_links_to_the_changed_object(staff_client):
    wagner = Actor.objects.get(slug="wagner")
    LogEntry.objects.log_actions(
        user_id=staff_client.user.pk,
        queryset=Actor.objects.filter(pk=wagner.pk),
        action_flag=CHANGE,
        change_message="Naam gewijzigd.",
    )
    response = staff_client.get(changelist(LogEntry), {"action_flag__exact": CHANGE})
    row = row_of(response, "Naam gewijzigd.")
    assert reverse("admin:archive_actor_change", args=[wagner.pk]) in row
    assert "redacteur" in row
    assert "gewijzigd" in row


# At a million pieces: nothing counts, sorts or scans every piece


def analyse(*models):
    """What autovacuum does on a live archive: the planner's statistics, which the
    list reads instead of counting."""
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def counts_in(queries, what="COUNT(*)"):
    return [q["sql"] for q in queries if what in q["sql"]]


@pytest.fixture
def big_table(monkeypatch):
    """The list behaves as on a big archive: counting stops at 2 rows."""
    monkeypatch.setattr(AdminPaginator, "exact_up_to", 2)
    for n in range(3):
        make_article(f"Bericht {n} over Poetin en de oorlog.")
    analyse(Article)


def test_a_big_list_shows_an_estimate_not_a_count_of_every_piece(staff_client, big_table):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article))
    cl = response.context["cl"]
    assert isinstance(cl.result_count, Estimate)
    assert f"ongeveer {Article.objects.count()} stukken" in response.content.decode()
    assert counts_in(queries.captured_queries) == []
    # Pages go as deep as counting would: narrowing reaches the rest.
    assert cl.paginator.num_pages == 1


def test_a_big_filtered_list_counts_only_up_to_a_bound(staff_client, big_table):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article), {"genre__exact": "nieuws"})
    assert "meer dan 2 stukken" in response.content.decode()
    (count,) = counts_in(queries.captured_queries)
    assert "LIMIT 3" in count


def test_a_small_list_counts_exactly(staff_client):
    response = staff_client.get(changelist(Article), {"genre__exact": "nieuws"})
    cl = response.context["cl"]
    assert not isinstance(cl.result_count, Estimate)
    assert cl.result_count == Article.objects.filter(genre="nieuws").count()


def test_list_never_counts_the_whole_table_again(staff_client):
    response = staff_client.get(changelist(Article), {"q": "Poetin"})
    assert response.context["cl"].full_result_count is None


def test_search_shows_the_best_matches_first_and_says_when_there_are_more(staff_client, settings):
    settings.SEARCH_POOL_SIZE = 2
    best = list(Article.objects.search("Poetin").values_list("pk", flat=True))
    assert len(best) == 2
    response = staff_client.get(changelist(Article), {"q": "Poetin"})
    assert [a.pk for a in response.context["cl"].result_list] == best
    assert "de beste 2 resultaten" in response.content.decode()


def test_search_results_sort_by_date_when_asked(staff_client):
    response = staff_client.get(changelist(Article), {"q": "Poetin", "o": "-2"})
    dates = [a.published_on for a in response.context["cl"].result_list]
    assert len(dates) >= 3
    assert dates == sorted(dates, reverse=True)


def test_source_filter_reads_the_most_covered_from_statistics_on_a_big_archive(
    staff_client, monkeypatch
):
    monkeypatch.setattr(archive_admin, "COUNT_PIECES_UP_TO", 0)
    other = Source.objects.create(name="Het Andere Blad", slug="het-andere-blad")
    for n in range(3):
        make_article(f"Stuk {n} uit een ander blad.", source=other)
    analyse(Article)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article))
    spec = next(
        f for f in response.context["cl"].filter_specs if isinstance(f, ArticleSourceFilter)
    )
    assert spec.lookup_choices[0] == (str(other.pk), other.name)
    assert spec.lookup_choices[-1] == ("geen", "zonder bron")
    assert counts_in(queries.captured_queries, 'COUNT("archive_article"') == []


def test_actor_filter_counts_no_links(staff_client):
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article))
    spec = next(f for f in response.context["cl"].filter_specs if isinstance(f, ArticleActorFilter))
    most = Actor.objects.order_by("-piece_count", "name").first()
    assert spec.lookup_choices[0] == (str(most.pk), most.name)
    actor_queries = counts_in(queries.captured_queries, 'FROM "archive_actor"')
    assert not any("COUNT(" in sql for sql in actor_queries)


def test_source_filter_offers_pieces_without_a_source(staff_client):
    bare = make_article("Een stuk van onbekende herkomst.")
    response = staff_client.get(changelist(Article), {"source__id__exact": "geen"})
    assert shown(response) == set(Article.objects.filter(source=None).values_list("pk", flat=True))
    assert bare.pk in shown(response)
    source = Article.objects.exclude(source=None).first().source
    response = staff_client.get(changelist(Article), {"source__id__exact": source.pk})
    assert shown(response) == set(source.articles.values_list("pk", flat=True))


def test_date_hierarchy_offers_years_and_months_without_a_distinct_over_every_date(
    staff_client,
):
    make_article("Een ouder stuk.", published_on="2019-03-04")
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article))
    html = response.content.decode()
    # Every year from the first piece to the last, even one without pieces.
    for year in range(2019, 2024):
        assert f"published_on__year={year}" in html
    assert not any("DISTINCT" in q["sql"] for q in queries.captured_queries)
    year = staff_client.get(changelist(Article), {"published_on__year": "2023"})
    assert "published_on__month=6" in year.content.decode()
    assert ">Juni 2023<" in year.content.decode()
    month = staff_client.get(
        changelist(Article), {"published_on__year": "2023", "published_on__month": "6"}
    )
    assert shown(month) == set(
        Article.objects.filter(published_on__year=2023, published_on__month=6).values_list(
            "pk", flat=True
        )
    )


def test_oldest_first_breaks_ties_the_way_the_date_index_runs(staff_client):
    # Column 2 is the date (0: the selection box, 1: the headline).
    response = staff_client.get(changelist(Article), {"o": "2"})
    assert response.context["cl"].queryset.query.order_by == ("published_on", "pk")
    newest = staff_client.get(changelist(Article))
    assert newest.context["cl"].queryset.query.order_by == ("-published_on", "-id")


def test_link_counts_are_counted_for_the_page_alone(staff_client, monkeypatch):
    monkeypatch.setattr(admin.site._registry[Article], "list_per_page", 2)
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(changelist(Article), {"p": "2"})
    page = [article.pk for article in response.context["cl"].result_list]
    assert len(page) == 2
    (tally,) = counts_in(queries.captured_queries, 'FROM "archive_articleactor"')
    assert f'"archive_articleactor"."article_id" IN ({page[0]}, {page[1]})' in tally
    rows = next(q["sql"] for q in queries.captured_queries if "OFFSET 2" in q["sql"])
    assert "archive_articleactor" not in rows


def test_source_and_author_lists_count_pieces_up_to_the_cap(staff_client, monkeypatch):
    source = Source.objects.create(name="Het Vaste Blad", slug="het-vaste-blad")
    author = Author.objects.create(name="Vaste Schrijver", slug="vaste-schrijver")
    for n in range(3):
        make_article(f"Stuk {n} van het vaste blad.", source=source).authors.add(author)
    assert ">3</a>" in row_of(staff_client.get(changelist(Source)), ">Het Vaste Blad<")
    monkeypatch.setattr(AdminPaginator, "exact_up_to", 2)
    assert ">meer dan 2</a>" in row_of(staff_client.get(changelist(Source)), ">Het Vaste Blad<")
    assert "meer dan 2" in row_of(staff_client.get(changelist(Author)), ">Vaste Schrijver<")


def test_list_sorts_only_by_date(staff_client):
    response = staff_client.get(changelist(Article), {"o": "1"})
    assert response.context["cl"].queryset.query.order_by == ("-published_on", "-id")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"actor": "1", "genre__exact": "column", "voorstellen": "open"},
        {"gebeurtenis": "1", "published_on__year": "2023", "date_precision__exact": "day"},
        {"q": "Poetin Wagner"},
        {"q": "Prigozjin", "actor": "1"},
    ],
    ids=["plain", "filtered", "event-year", "search", "search-filtered"],
)
def test_article_list_queries_are_bounded(staff_client, params, django_assert_max_num_queries):
    for n in range(30):
        make_article(f"Bericht {n} over Poetin, Prigozjin en Wagner.")
    with django_assert_max_num_queries(LIST_QUERIES):
        response = staff_client.get(changelist(Article), params)
    assert response.status_code == 200


def test_article_page_queries_do_not_grow_with_its_links(
    staff_client, django_assert_max_num_queries
):
    article = Article.objects.get(slug="de-bijna-coup-kent-aan-russische-kant-alleen-verliezers")
    url = reverse("admin:archive_article_change", args=[article.pk])
    with django_assert_max_num_queries(CHANGE_QUERIES):
        before = staff_client.get(url)
    for actor in Actor.objects.exclude(article_links__article=article)[:10]:
        ArticleActor.objects.create(article=article, actor=actor, mentions=1)
    with django_assert_max_num_queries(CHANGE_QUERIES):
        after = staff_client.get(url)
    rows = len(after.context["inline_admin_formsets"][0].formset.forms)
    assert rows == len(before.context["inline_admin_formsets"][0].formset.forms) + 10
    # Each row still shows its actor, chosen.
    for link in article.actor_links.select_related("actor"):
        assert f'<option value="{link.actor_id}" selected>{link.actor.name}</option>' in (
            after.content.decode()
        )
