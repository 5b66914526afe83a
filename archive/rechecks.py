"""Re-checking pieces off the editor's request.

An editor who gives an actor a name common in the archive ("Rutte", in a tenth of a
million pieces) would otherwise wait for every one of those pieces to be looked at,
past the server's timeout. Instead the change is saved at once and a Recheck row with
a task is queued in the same transaction (django-tasks' PostgreSQL queue, so a change
that rolls back queues nothing); `manage.py db_worker`, which gunicorn.conf.py starts
beside the web workers, runs it, writing how far it is as it goes. Running the same
re-check twice lands the same links: tagging.recheck_actor and recheck_event only add
what is missing and correct what changed.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from archive import tagging
from archive.models import Recheck
from archive.search import catalogue

log = logging.getLogger(__name__)


def queue(reason: str, *, actor=None, event=None, names=()) -> Recheck:
    """A Recheck for the actor (of `names`, or all its names) or event, queued."""
    recheck = Recheck.objects.create(actor=actor, event=event, names=list(names), reason=reason)
    run_recheck.enqueue(recheck.pk)
    return recheck


@task()
def run_recheck(recheck_id: int) -> int:
    """The task: returns how many links it made or changed."""
    recheck = Recheck.objects.filter(pk=recheck_id).select_related("actor", "event").first()
    if recheck is None:
        return 0  # its actor or event was deleted meanwhile
    Recheck.objects.filter(pk=recheck.pk).update(
        status=Recheck.Status.RUNNING, checked=0, started_at=timezone.now()
    )

    def progress(checked: int, pieces: int, changed: int):
        Recheck.objects.filter(pk=recheck.pk).update(
            checked=checked, pieces=pieces, changed=changed
        )

    try:
        if recheck.actor is not None:
            changed = tagging.recheck_actor(
                recheck.actor, names=recheck.names or None, progress=progress
            )
        else:
            changed = tagging.recheck_event(recheck.event, progress=progress)
    except Exception as error:
        Recheck.objects.filter(pk=recheck.pk).update(
            status=Recheck.Status.FAILED, error=repr(error), finished_at=timezone.now()
        )
        log.exception("re-check %s failed", recheck.pk)
        raise
    with transaction.atomic():
        Recheck.objects.filter(pk=recheck.pk).update(
            status=Recheck.Status.DONE, changed=changed, finished_at=timezone.now()
        )
    # Links written in batches by a worker: pages cached before them are stale.
    catalogue.changed()
    return changed


def running_for(subject) -> list[Recheck]:
    """The unfinished re-checks of an actor or event, for its admin page."""
    field = "actor" if subject._meta.model_name == "actor" else "event"
    return list(
        Recheck.objects.filter(**{field: subject}).exclude(
            status__in=[Recheck.Status.DONE, Recheck.Status.FAILED]
        )
    )
