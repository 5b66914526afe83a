from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, router
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

EDITOR_GROUP = "editor"
# What editors work on day to day. They may delete links (that is how a suggestion is
# rejected) but not pieces, actors, events, authors or sources: deleting one cascades
# through the archive and the history keeps only its name, so that is left to an
# administrator. Nothing on users or groups.
EDITOR_MODELS = ["article", "actor", "event", "author", "source", "articleactor", "articleevent"]
EDITOR_ACTIONS = ["add", "change", "view"]
EDITOR_DELETES = ["articleactor", "articleevent"]


def editor_permissions() -> list[tuple[str, str]]:
    """(app label, codename) of every permission the editor group holds."""
    perms = [("archive", f"{a}_{m}") for m in EDITOR_MODELS for a in EDITOR_ACTIONS]
    perms += [("archive", f"delete_{m}") for m in EDITOR_DELETES]
    # The list of who changed what, and the background re-checks, read-only.
    perms.append(("admin", "view_logentry"))
    perms.append(("archive", "view_recheck"))
    return perms


def ensure_editor_group(
    app_config, verbosity=2, interactive=True, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs
):
    """Create the editor group, or give it back any permission it lacks (never takes one
    away: what an administrator added stays). Runs after every migrate."""
    from django.contrib.auth.management import create_permissions

    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    if not router.allow_migrate_model(using, Group):
        return
    # This app comes before django.contrib.auth in INSTALLED_APPS, so its post_migrate
    # handler has not yet made this migrate's new permissions. It does no harm to make
    # them first: create_permissions only adds what is missing.
    for label in sorted({label for label, _ in editor_permissions()}):
        try:
            config = global_apps.get_app_config(label)
        except LookupError:
            continue
        create_permissions(config, verbosity=0, using=using, apps=apps)
    wanted = Q()
    for label, codename in editor_permissions():
        wanted |= Q(content_type__app_label=label, codename=codename)
    permissions = Permission.objects.using(using).filter(wanted)
    group, _ = Group.objects.using(using).get_or_create(name=EDITOR_GROUP)
    group.permissions.add(*permissions)


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Archief"

    def ready(self):
        post_migrate.connect(ensure_editor_group, sender=self)
        self.connect_cache_invalidation()
        from archive.duplicates import article_saved

        # Every piece saved through the ORM (admin, paste, fixtures) gets the
        # fingerprints that near-copy checks look up; the bulk paths write their own.
        post_save.connect(article_saved, sender=self.get_model("article"), dispatch_uid="keys")

    def connect_cache_invalidation(self):
        """Any change an editor makes starts a new cache generation (archive/search/
        catalogue.py): searches, facets and pages never show what was just changed."""
        from archive.search import catalogue

        for name in EDITOR_MODELS:
            model = self.get_model(name)
            post_save.connect(catalogue.changed, sender=model, dispatch_uid=f"changed-{name}")
            post_delete.connect(catalogue.changed, sender=model, dispatch_uid=f"gone-{name}")
        article = self.get_model("article")
        event = self.get_model("event")
        throughs = (
            article.authors.through,
            article.rejected_actors.through,
            article.rejected_events.through,
            event.actors.through,
        )
        for through in throughs:
            m2m_changed.connect(catalogue.changed, sender=through, dispatch_uid=f"m2m-{through}")
