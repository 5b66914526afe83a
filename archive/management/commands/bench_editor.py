"""What an editor waits for in admin, timed on the archive this process is pointed at."""

import json
import random
import re
import time
from collections import Counter

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
from django.urls import reverse

from archive.models import Actor, Article, Event, Recheck

USER = "benchmark-editor"


def form_data(response) -> dict:
    """The values a browser would send back from an admin change form."""
    data = values_of(response.context["adminform"].form)
    for formset in response.context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for inline in formset.formset.forms:
            for name in inline.fields:
                value = inline[name].value()
                if value not in (None, False):
                    data[f"{inline.prefix}-{name}"] = "on" if value is True else str(value)
    return data


def values_of(form) -> dict:
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list | tuple):
            if hasattr(field, "delimiter"):
                data[name] = field.delimiter.join(str(v) for v in value)
            else:
                data[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = str(value)
    return data


class Command(BaseCommand):
    help = (
        "Times what an editor waits for in admin on this archive (a benchmark; it changes "
        "one piece, one actor and one event and adds one piece): saving a piece, giving "
        "an actor a new name that is common in the archive, changing an event's signal "
        "words, and both steps of pasting a piece; then how long the re-checks those "
        "queued take in the background. Prints JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3, help="times each save is timed")

    def handle(self, *args, runs, **options):
        user, _ = get_user_model().objects.get_or_create(
            username=USER, defaults={"is_staff": True, "is_superuser": True}
        )
        # The test client's responses carry their template context (the admin's forms,
        # to post back as a browser would) only with the test instrumentation.
        setup_test_environment()
        client = Client()
        client.force_login(user)
        rng = random.Random(5)
        figures = {"pieces": Article.objects.count()}
        with override_settings(ALLOWED_HOSTS=["testserver"], RATE_LIMITS_ENABLED=False):
            figures["piece"] = self.time_piece_saves(client, rng, runs)
            figures["actor"], figures["actor_alias"] = self.time_actor_save(client)
            figures["event"] = self.time_event_save(client)
            figures["paste_review"], figures["paste_save"] = self.time_paste(client, rng, runs)
            figures["rechecks"] = self.time_rechecks()
        self.stdout.write(json.dumps(figures))

    def timed_post(self, client, url, data) -> float:
        started = time.perf_counter()
        response = client.post(url, data)
        seconds = time.perf_counter() - started
        if response.status_code not in (200, 302):
            raise RuntimeError(f"{url} answered {response.status_code}")
        return seconds

    def time_piece_saves(self, client, rng, runs) -> list[float]:
        last = Article.objects.order_by("-id").values_list("id", flat=True).first()
        times = []
        for _ in range(runs):
            piece = Article.objects.filter(id__lte=rng.randint(1, last)).order_by("-id").first()
            url = reverse("admin:archive_article_change", args=[piece.pk])
            data = form_data(client.get(url))
            data["body"] = data["body"] + f"\n\nEen correctie van de redactie ({rng.random()})."
            data["_save"] = "Opslaan"
            times.append(self.timed_post(client, url, data))
        return times

    def common_word(self) -> str:
        """A word in about a tenth of the pieces (as "Rutte" is in a newsroom's archive),
        judged on a sample of 500 of them."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT body FROM archive_article TABLESAMPLE SYSTEM (5) LIMIT 500")
            bodies = [row[0] for row in cursor.fetchall()]
        counts = Counter(
            word for body in bodies for word in set(re.findall(r"\b[a-z]{6,}\b", body.lower()))
        )
        if not counts:
            return "kabinet"
        return min(counts, key=lambda w: (abs(counts[w] / len(bodies) - 0.1), w)).capitalize()

    def time_actor_save(self, client) -> tuple[list[float], str]:
        actor = Actor.objects.filter(kind="organisation").order_by("-piece_count").first()
        word = self.common_word()
        url = reverse("admin:archive_actor_change", args=[actor.pk])
        data = form_data(client.get(url))
        data["aliases"] = ",".join([*actor.aliases, word])
        data["_save"] = "Opslaan"
        return [self.timed_post(client, url, data)], word

    def time_event_save(self, client) -> list[float]:
        event = Event.objects.exclude(signal_words=[]).order_by("-piece_count").first()
        url = reverse("admin:archive_event_change", args=[event.pk])
        data = form_data(client.get(url))
        data["signal_words"] = ",".join([*event.signal_words, "huurlingen"])
        data["_save"] = "Opslaan"
        return [self.timed_post(client, url, data)]

    def time_paste(self, client, rng, runs) -> tuple[list[float], list[float]]:
        url = reverse("admin:archive_article_paste")
        reviews, saves = [], []
        pieces = list(Article.objects.order_by("-id").values_list("body", flat=True)[:50])
        for _ in range(runs):
            # A new text of the archive's words: its trigrams are nobody's.
            words = rng.choice(pieces).split()
            rng.shuffle(words)
            raw = "date 2024-03\n\n" + " ".join(words) + "\n\nEen slotzin over Poetin."
            started = time.perf_counter()
            review = client.post(url, {"raw": raw})
            reviews.append(time.perf_counter() - started)
            data = {**values_of(review.context["form"]), **values_of(review.context["extras"])}
            data.update(raw=raw, genre="nieuws", _save="Opslaan")
            saves.append(self.timed_post(client, url, data))
        return reviews, saves

    def time_rechecks(self) -> list[dict]:
        """The queued re-checks run as the task worker runs them, each timed."""
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
        return [
            {
                "reason": r.reason,
                "status": r.status,
                "pieces": r.pieces,
                "changed": r.changed,
                "seconds": (r.finished_at - r.started_at).total_seconds()
                if r.finished_at and r.started_at
                else None,
            }
            for r in Recheck.objects.order_by("id")
        ]
