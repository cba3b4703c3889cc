"""Contacts given in any form (one, a queryset, contacts or ids), read as ids in batches."""

from collections.abc import Iterable, Iterator

from django.db import models

from ..db.batches import BATCH_SIZE, batched
from ..exceptions import InvalidChange
from ..models import Contact


def contact_id_batches(contacts, *, must_exist: bool = False) -> Iterator[list[int]]:
    """Contact ids in batches, from a contact, a queryset, or an iterable of contacts or ids.

    With ``must_exist``, ids given directly that are not a contact's raise ``InvalidChange``
    (a contact instance or a queryset needs no such check).
    """
    if isinstance(contacts, models.Model):
        # A contact instance was read from the table: no need to look it up again.
        contacts, must_exist = [contacts], False
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


def contact_ids(contacts, *, must_exist: bool = False) -> list[int]:
    """All the ids ``contact_id_batches`` gives, as one list."""
    return [pk for batch in contact_id_batches(contacts, must_exist=must_exist) for pk in batch]


def _require_contacts(ids: list[int]) -> None:
    found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidChange(f"Not contacts: {', '.join(map(repr, missing))}.")
