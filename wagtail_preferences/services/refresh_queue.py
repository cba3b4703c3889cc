"""Segment refreshes queued for a background worker, taken in batches.

With a worker, a visitor's change queues its contact and returns; the worker refreshes the
queued contacts together, so that many changes cost one refresh of every segment, not one
each. With the immediate backend there is nothing to wait for: contacts are refreshed at
once, as before.

A burst of changes asks for one worker task: a change asks only when no request is waiting
(``RefreshRequest``), and the task withdraws the request before it takes the queue, so a
contact queued after that is either taken by it or asks for the next task. A request that
waited for longer than ``STALE_REQUEST`` (its worker died) no longer holds others back.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import get_setting
from ..db.batches import insert_rows
from ..models import PendingRefresh, RefreshRequest
from .segments import refresh_contacts

#: How long a refresh task waits before it starts, where the task backend can wait: a refresh
#: costs about the same for one contact as for a thousand, so a moment's changes go together.
BATCH_WAIT = timedelta(seconds=1)
STALE_REQUEST = timedelta(minutes=1)
_ONLY = 1  # the primary key of the one RefreshRequest row


def queue(contact_ids, changes: list[str] | None = None) -> bool:
    """Queue these contacts, and what changed for them (``None``: anything); returns whether
    a worker task must be asked to refresh them."""
    now = timezone.now()
    insert_rows(PendingRefresh, {"contact_id": sorted(contact_ids)}, queued_at=now, changes=changes)
    waiting = Q(requested_at__isnull=True) | Q(requested_at__lt=now - STALE_REQUEST)
    if RefreshRequest.objects.filter(waiting, pk=_ONLY).update(requested_at=now):
        return True
    _, created = RefreshRequest.objects.get_or_create(pk=_ONLY, defaults={"requested_at": now})
    return created


def refresh_queued() -> int:
    """Refresh the queued contacts' segments, a batch at a time; returns how many were refreshed.

    Each batch is taken and refreshed in one transaction: a worker that dies leaves its batch
    queued. On PostgreSQL, workers running at once take different rows (``SKIP LOCKED``).
    """
    RefreshRequest.objects.filter(pk=_ONLY).update(requested_at=None)
    refreshed = 0
    while True:
        with transaction.atomic():
            taken = list(
                PendingRefresh.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "contact_id", "changes")[: get_setting("LIVE_REFRESH_LIMIT")]
            )
            if not taken:
                return refreshed
            PendingRefresh.objects.filter(pk__in=[pk for pk, _, _ in taken]).delete()
            contact_ids = {contact_id for _, contact_id, _ in taken}
            refresh_contacts(contact_ids, _together(changes for _, _, changes in taken))
        refreshed += len(contact_ids)


def _together(changes) -> list[str] | None:
    """What a batch's changes touched together: anything if any of them may touch anything."""
    tags: set[str] = set()
    for each in changes:
        if each is None:
            return None
        tags.update(each)
    return sorted(tags)
