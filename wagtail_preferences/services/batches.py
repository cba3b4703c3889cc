from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import models

from ..models import ConsentEvent

BATCH_SIZE = 2000


def batched(items: Iterable, size: int) -> Iterator[tuple]:
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def contact_id_batches(contacts) -> Iterator[list[int]]:
    """Contact ids in batches, from a contact, a queryset, or an iterable of contacts or ids."""
    if isinstance(contacts, models.Model):
        yield [contacts.pk]
        return
    if isinstance(contacts, models.QuerySet):
        if not contacts.query.is_sliced:
            contacts = contacts.order_by()
        contacts = contacts.values_list("pk", flat=True).iterator(BATCH_SIZE)
    ids: Iterable[int] = (getattr(c, "pk", c) for c in contacts)
    for batch in batched(ids, BATCH_SIZE):
        yield list(dict.fromkeys(batch))


def record(events: list[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
