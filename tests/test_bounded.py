"""Pages whose cost does not grow with the archive: the search pool, its honest counts,
bounded paging, counters kept by the database, and the cache that an edit invalidates.

The pool's size is a setting; here it is made small so a handful of pieces is "more
than fits", which is what a common word in a million pieces is.
"""

import datetime

import pytest
from django.urls import reverse

from archive.models import Actor, Article, ArticleActor, Event, Source
from archive.search import Browse, Filters, catalogue
from tests.factories import make_article

pytestmark = pytest.mark.django_db

POOL = 6


@pytest.fixture
def small_pool(settings):
    settings.SEARCH_POOL_SIZE = POOL
    settings.ARTICLES_PER_PAGE = 2
    return POOL


def titles(response):
    return [article.title for article in response.context["page"].object_list]


def many(word: str, n: int, **fields):
    return [
        make_article(
            f"Een verslag over {word} en de rest, nummer {i}.",
            title=f"Verslag {i}",
            published_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=i),
            **fields,
        )
        for i in range(n)
    ]


def test_a_search_with_more_matches_than_the_pool_says_more_than(client, small_pool):
    many("zeilboten", POOL + 4)
    response = client.get(reverse("archive:browse"), {"q": "zeilboten"})
    page = response.content.decode()
    assert f"Meer dan {POOL} stukken" in page
    assert "beste treffers" in page
    assert response.context["search"].complete is False
    assert response.context["page"].paginator.num_pages == POOL // 2


def test_a_search_that_fits_the_pool_is_counted_exactly(client, small_pool):
    many("kanovaarders", POOL - 1)
    response = client.get(reverse("archive:browse"), {"q": "kanovaarders"})
    assert f"{POOL - 1} stukken" in response.content.decode()
    assert response.context["search"].complete is True


def test_past_the_pool_pieces_with_every_word_still_come_first(small_pool):
    # Many pieces with one word; the two with both words must lead the list even
    # though the one-word matches alone overflow the pool.
    many("zeilboten", POOL * 3)
    both = [
        make_article(
            f"Zeilboten en een vuurtoren op kaart {i}.",
            title=f"Beide {i}",
            published_on=datetime.date(2001, 1, 1),
        )
        for i in range(2)
    ]
    search = Browse(Filters(q="zeilboten vuurtoren"))
    assert search.complete is False
    assert set(search.pool.ids[:2]) == {a.pk for a in both}


def test_past_the_pool_a_headline_match_is_a_candidate_however_old(small_pool):
    many("zeilboten", POOL * 3)
    old = make_article(
        "Een stuk over het water.",
        title="Zeilboten van vroeger",
        published_on=datetime.date(1990, 1, 1),
    )
    search = Browse(Filters(q="zeilboten"))
    assert search.complete is False
    assert old.pk in search.pool.ids[:3]


def test_facets_are_counted_within_a_labelled_sample(client, small_pool, settings):
    settings.SEARCH_FACET_SAMPLE = 4
    source = Source.objects.create(name="De Waterkant", slug="de-waterkant")
    many("zeilboten", POOL * 2, source=source)
    response = client.get(reverse("archive:browse"), {"q": "zeilboten"})
    facets = dict((label, n) for _, label, n in response.context["facets"]["source"])
    assert facets["De Waterkant"] == 4
    assert "Aantallen geteld in de 4 beste treffers" in response.content.decode()


def test_browsing_everything_gives_the_archive_total_and_bounded_pages(client, small_pool):
    many("zeilboten", POOL * 2)
    response = client.get(reverse("archive:browse"))
    total = Article.objects.count()
    assert f"{total} stukken" in response.content.decode()
    assert response.context["page"].paginator.num_pages == POOL // 2
    last = client.get(reverse("archive:browse"), {"pagina": 999})
    assert titles(last) == titles(client.get(reverse("archive:browse"), {"pagina": POOL // 2}))


def test_an_edit_shows_at_once_although_the_search_was_cached(client):
    first = client.get(reverse("archive:browse"), {"q": "walvisvaart"})
    assert titles(first) == []
    make_article("De walvisvaart van weleer.", title="Walvissen")
    again = client.get(reverse("archive:browse"), {"q": "walvisvaart"})
    assert titles(again) == ["Walvissen"]


def test_an_edit_moves_the_cache_on_again_when_it_commits(
    client, django_capture_on_commit_callbacks
):
    """A reader who caches a page between an editor's save and its commit caches the old
    rows under the new generation; the commit moves the generation on once more."""
    piece = make_article("De walvisvaart van weleer.", title="Walvissen")
    with django_capture_on_commit_callbacks() as callbacks:
        piece.title = "Walvissen en haaien"
        piece.save()
    during = catalogue.generation()
    for callback in callbacks:
        callback()
    assert catalogue.generation() != during


def test_a_repeated_search_is_served_from_the_cache(client, django_assert_num_queries):
    first = client.get(reverse("archive:browse"), {"q": "Poetin Prigozjin"})
    # The whole page comes from the cache: not one statement.
    with django_assert_num_queries(0):
        again = client.get(reverse("archive:browse"), {"q": "Poetin Prigozjin"})
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]


def test_a_signed_in_editor_always_sees_the_live_page(admin_client, django_assert_max_num_queries):
    admin_client.get(reverse("archive:browse"), {"q": "Poetin"})
    response = admin_client.get(reverse("archive:browse"), {"q": "Poetin"})
    assert response.context["page"].object_list  # rendered, not replayed


def test_the_search_pool_is_shared_by_the_html_and_json_pages(
    client, django_assert_max_num_queries
):
    client.get(reverse("archive:browse"), {"q": "Poetin Prigozjin"})
    # Pool and facets come from the cache; the JSON page fetches its rows, their
    # subjects and snippets.
    with django_assert_max_num_queries(7):
        data = client.get(reverse("archive:api_browse"), {"q": "Poetin Prigozjin"}).json()
    assert data["results"]


def test_actor_and_event_counts_follow_every_link_change():
    actor = Actor.objects.create(name="Kapitein Zeehond", slug="kapitein-zeehond")
    event = Event.objects.create(
        name="Grote storm", slug="grote-storm", start_date=datetime.date(2020, 1, 1)
    )
    pieces = many("stormvloed", 3)
    ArticleActor.objects.bulk_create(
        [ArticleActor(article=p, actor=actor, confirmed=i == 0) for i, p in enumerate(pieces)]
    )
    event.article_links.create(article=pieces[0])
    actor.refresh_from_db()
    event.refresh_from_db()
    assert (actor.piece_count, actor.suggested_count) == (3, 2)
    assert (event.piece_count, event.suggested_count) == (1, 1)

    ArticleActor.objects.filter(actor=actor).update(confirmed=True)
    actor.refresh_from_db()
    assert (actor.piece_count, actor.suggested_count) == (3, 0)

    pieces[1].delete()
    event.article_links.all().delete()
    actor.refresh_from_db()
    event.refresh_from_db()
    assert (actor.piece_count, actor.suggested_count) == (2, 0)
    assert (event.piece_count, event.suggested_count) == (0, 0)


def test_actor_page_takes_its_count_from_the_counter(client, django_assert_max_num_queries):
    actor = Actor.objects.get(slug="vladimir-poetin")
    real = ArticleActor.objects.filter(actor=actor).count()
    response = client.get(actor.get_absolute_url())
    assert f'Stukken over {actor} <span class="n">({real}' in response.content.decode()


def test_a_source_with_more_pieces_than_can_be_paged_says_more_than(client, small_pool):
    source = Source.objects.create(name="De Waterkant", slug="de-waterkant")
    many("zeilboten", POOL + 3, source=source)
    response = client.get(source.get_absolute_url())
    page = response.content.decode()
    assert f"meer dan {POOL}" in page
    assert response.context["page"].paginator.num_pages == POOL // 2


def test_sitemap_pages_are_ranges_of_ids(client, settings):
    from archive.sitemaps import ArticleSitemap

    many("zeilboten", 5)
    top = Article.objects.order_by("-id").first()
    index = client.get(reverse("archive:sitemap")).content.decode()
    assert "sitemap-stukken.xml" in index
    first = client.get(reverse("archive:sitemap_section", args=["stukken"])).content.decode()
    assert top.get_absolute_url() in first
    assert ArticleSitemap().paginator.num_pages == -(-top.pk // ArticleSitemap.limit)
    missing = client.get(reverse("archive:sitemap_section", args=["stukken"]), {"p": 999})
    assert missing.status_code == 404


def test_actor_index_is_rendered_once_per_change(client, django_assert_num_queries):
    client.get(reverse("archive:actors"))
    with django_assert_num_queries(0):
        again = client.get(reverse("archive:actors"))
    assert "Vladimir Poetin" in again.content.decode()
    Actor.objects.create(name="Kapitein Zeehond", slug="kapitein-zeehond")
    assert "Kapitein Zeehond" in client.get(reverse("archive:actors")).content.decode()


def test_past_the_pool_a_rare_word_finds_its_piece_beside_a_common_one(small_pool):
    # "zeilboten" overflows the pool; the one piece with "kwallenplaag" (and not the
    # common word) must still be a candidate, ranked first among single-word matches.
    many("zeilboten", POOL * 3)
    rare = make_article("Een kwallenplaag op het strand.", title="Strandnieuws")
    search = Browse(Filters(q="zeilboten kwallenplaag"))
    assert search.complete is False
    assert rare.pk in search.pool.ids


def test_a_popular_subject_filters_the_same_either_way(client, monkeypatch):
    """Above MANY_LINKS the actor filter looks each piece up instead of gathering the
    links: the pieces found must be the same."""
    from archive.search import browse

    params = {"q": "Poetin", "actor": "vladimir-poetin", "event": "wagner-muiterij"}
    gathered = titles(client.get(reverse("archive:browse"), params))
    monkeypatch.setattr(browse, "MANY_LINKS", 0)
    Actor.objects.get(slug="vladimir-poetin").save()  # a change: no cached pool reused
    looked_up = titles(client.get(reverse("archive:browse"), params))
    assert gathered and looked_up == gathered


def test_no_cache_asks_for_a_fresh_page_and_refreshes_the_cache(
    client, django_assert_max_num_queries
):
    client.get(reverse("archive:browse"), {"q": "Poetin"})
    with django_assert_max_num_queries(20) as fresh:
        client.get(reverse("archive:browse"), {"q": "Poetin"}, HTTP_CACHE_CONTROL="no-cache")
    # Pool, facets and page computed again, not read from the cache.
    assert any("ts_rank" in q["sql"] for q in fresh.captured_queries)


def test_saving_an_actor_never_overwrites_its_counts():
    """An editor's form holds the counts as they were when it was loaded; saving it
    after links came in must not put them back."""
    actor = Actor.objects.create(name="Kapitein Zeehond", slug="kapitein-zeehond")
    stale = Actor.objects.get(pk=actor.pk)
    pieces = many("stormvloed", 2)
    ArticleActor.objects.bulk_create([ArticleActor(article=p, actor=actor) for p in pieces])
    stale.description = "Een kapitein."
    stale.save()
    actor.refresh_from_db()
    assert (actor.piece_count, actor.suggested_count, actor.description) == (2, 2, "Een kapitein.")
    Actor.objects.filter(pk=actor.pk).update(piece_count=99)
    actor.refresh_from_db()
    assert actor.piece_count == 2


def test_a_rare_word_newest_first_is_sorted_without_walking_the_date_index(
    client, django_assert_max_num_queries
):
    old = make_article(
        "Een kwallenplaag in 1990.", title="Toen", published_on=datetime.date(1990, 1, 1)
    )
    new = make_article("Weer een kwallenplaag.", title="Nu", published_on=datetime.date(2024, 6, 1))
    with django_assert_max_num_queries(10) as seen:
        response = client.get(reverse("archive:browse"), {"q": "kwallenplaag", "sort": "newest"})
    assert titles(response) == [new.title, old.title]
    pool = next(q["sql"] for q in seen.captured_queries if "LIMIT 1001" in q["sql"])
    assert '"published_on" + 0' in pool
