from django.db import transaction
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend

from . import services
from .models import ChangePath
from .services import refresh_queue
from .tasks import refresh_contacts, refresh_queued_contacts, refresh_segments


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


def refresh_changed_contacts(sender, contact_ids, signal=None, **kwargs):
    """Any change to contacts refreshes their segment memberships once the change commits.

    Changes made inside ``refresh_contacts`` are left to it, as it repeats until stable;
    those of a whole-segment refresh are followed up like any change, so that segments
    depending on it follow.
    """
    if not services.segments.refreshing():
        changes = services.segments.changes_reported(signal, **kwargs)
        services.segments.defer_refresh(contact_ids, changes=changes)


def enqueue_refresh(sender, contact_ids, changes=None, **kwargs):
    """Contacts whose segments are due for a refresh: a few live, many in a whole refresh.

    A worker takes the few from a queue, in batches with other changes' contacts, a moment
    later; without one, they are refreshed at once.
    """
    if contact_ids is services.segments.EVERYONE:
        refresh_segments.enqueue(changes=changes)
    elif isinstance(refresh_contacts.get_backend(), ImmediateBackend):
        refresh_contacts.enqueue(sorted(contact_ids), changes=changes)
    elif refresh_queue.queue(contact_ids, changes):
        task = refresh_queued_contacts
        if task.get_backend().supports_defer:
            # The changes of the next moment join the same batch.
            task = task.using(run_after=timezone.now() + refresh_queue.BATCH_WAIT)
        task.enqueue()


def refresh_saved_segment(sender, instance, **kwargs):
    """A segment whose criteria may have changed is refreshed in the background."""
    if not instance.criteria_problems():
        transaction.on_commit(lambda: refresh_segments.enqueue([instance.pk]))
