"""Small builders for test data beyond the seed articles."""

import datetime
import itertools

from archive.models import Article

_counter = itertools.count(1)


def make_article(body: str, title: str | None = None, **fields) -> Article:
    n = next(_counter)
    fields.setdefault("genre", "nieuws")
    fields.setdefault("published_on", datetime.date(2024, 1, 1))
    return Article.objects.create(title=title or f"Testbericht {n}", body=body, **fields)


def run_tasks() -> None:
    """Run the queued background tasks (re-checks) as the task worker does, then stop.

    The worker checks its connection between tasks and closes one not in autocommit,
    as a test's connection inside its transaction is; here that check is left out."""
    from unittest import mock

    from django.core.management import call_command

    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
