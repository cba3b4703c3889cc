"""Segment refreshes queued for a background worker, taken in batches.

With a worker, a visitor's change queues its contact and returns; the worker refreshes the
queued contacts together, so that many changes cost one refresh of every segment, not one
each. With the immediate backend there is nothing to wait for: contacts are refreshed at
once, as before.
"""

from django.db import transaction
from django.utils import timezone

from ..conf import get_setting
from ..db.batches import insert_rows
from ..models import PendingRefresh
from .segments import refresh_contacts


def queue(contact_ids) -> None:
    insert_rows(PendingRefresh, {"contact_id": sorted(contact_ids)}, queued_at=timezone.now())


def refresh_queued() -> int:
    """Refresh the queued contacts' segments, a batch at a time; returns how many were refreshed.

    Each batch is taken and refreshed in one transaction: a worker that dies leaves its batch
    queued. On PostgreSQL, workers running at once take different rows (``SKIP LOCKED``).
    """
    refreshed = 0
    while True:
        with transaction.atomic():
            taken = list(
                PendingRefresh.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "contact_id")[: get_setting("LIVE_REFRESH_LIMIT")]
            )
            if not taken:
                return refreshed
            PendingRefresh.objects.filter(pk__in=[pk for pk, _ in taken]).delete()
            contact_ids = {contact_id for _, contact_id in taken}
            refresh_contacts(contact_ids)
        refreshed += len(contact_ids)
