import threading
from contextlib import contextmanager

from django.db import transaction

from . import services
from .conf import get_setting
from .models import ChangePath

_pending = threading.local()


def release_deleted_preference(sender, instance, **kwargs):
    """However a preference is deleted, its holders' histories record that they lost it."""
    services.release_preference(instance, _deletion_origin(instance))


def release_deleted_category(sender, instance, **kwargs):
    services.release_category(instance, _deletion_origin(instance))


def release_deleted_segment(sender, instance, **kwargs):
    services.release_segment(instance, _deletion_origin(instance))


def delete_import_file(sender, instance, **kwargs):
    """An import run's file holds personal data: it goes with the run, once that commits."""
    if instance.file:
        transaction.on_commit(lambda: instance.file.delete(save=False))


def _deletion_origin(instance) -> services.Origin:
    return services.Origin(
        path=ChangePath.SYSTEM,
        reference=f"{instance._meta.verbose_name} “{instance}” deleted",
    )


def refresh_changed_contacts(sender, contact_ids, **kwargs):
    """Any change to contacts refreshes their segment memberships once the change commits.

    Changes made inside ``refresh_contacts`` are left to it, as it repeats until stable;
    those of a whole-segment refresh are followed up like any change, so that segments
    depending on it follow.
    """
    if services.segments.refreshing():
        return
    # Ids gather until the first commit callback takes them all; the later ones find none.
    # A rolled-back change leaves its ids for the next commit, where they cost a few queries.
    if getattr(_pending, "ids", None) is None:
        _pending.ids = set()
    if _pending.ids is not EVERYONE:
        _pending.ids.update(contact_ids)
        if len(_pending.ids) > get_setting("LIVE_REFRESH_LIMIT"):
            _pending.ids = EVERYONE
    if not getattr(_pending, "held", False):
        transaction.on_commit(_refresh_pending)


#: Stands for more changed contacts than a live refresh takes: every segment is refreshed.
EVERYONE = frozenset([0])


@contextmanager
def refresh_once():
    """Changes made inside refresh segments once, when the block ends, not at every commit.

    For work that commits in many batches, such as an import.
    """
    _pending.held = True
    try:
        yield
    finally:
        _pending.held = False
        transaction.on_commit(_refresh_pending)


def _refresh_pending():
    from .tasks import refresh_contacts, refresh_segments

    ids, _pending.ids = getattr(_pending, "ids", None), None
    if not ids:
        return
    if ids is EVERYONE or len(ids) > get_setting("LIVE_REFRESH_LIMIT"):
        refresh_segments.enqueue()
    else:
        refresh_contacts.enqueue(sorted(ids))


def refresh_saved_segment(sender, instance, **kwargs):
    """A segment whose criteria may have changed is refreshed in the background."""
    from .tasks import refresh_segments

    if not instance.criteria_problems():
        transaction.on_commit(lambda: refresh_segments.enqueue([instance.pk]))
