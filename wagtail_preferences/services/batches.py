from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import models

from ..exceptions import InvalidChange
from ..models import ConsentEvent, Contact

BATCH_SIZE = 2000


def batched(items: Iterable, size: int) -> Iterator[tuple]:
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def contact_id_batches(contacts, *, must_exist: bool = False) -> Iterator[list[int]]:
    """Contact ids in batches, from a contact, a queryset, or an iterable of contacts or ids.

    With ``must_exist``, ids given directly that are not a contact's raise ``InvalidChange``.
    """
    if isinstance(contacts, models.Model):
        contacts = [contacts]
    elif isinstance(contacts, models.QuerySet):
        if not contacts.query.is_sliced:
            contacts = contacts.order_by()
        contacts = contacts.values_list("pk", flat=True).iterator(BATCH_SIZE)
        must_exist = False
    ids: Iterable[int] = (getattr(c, "pk", c) for c in contacts)
    for batch in batched(ids, BATCH_SIZE):
        batch = list(dict.fromkeys(batch))
        if must_exist:
            _require_contacts(batch)
        yield batch


def _require_contacts(ids: list[int]) -> None:
    found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidChange(f"Not contacts: {', '.join(map(repr, missing))}.")


def record(events: list[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
