from collections import defaultdict
from collections.abc import Mapping

from django.db import transaction

from .. import signals
from ..models import Category, CategoryChoice, ConsentSubject
from .batches import BATCH_SIZE, contact_id_batches, record
from .origin import Origin


@transaction.atomic
def set_category_choices(
    contacts, choices: Mapping[Category, bool | None], origin: Origin
) -> frozenset[tuple[int, int, bool | None]]:
    """Set each contact's choice for each category in ``choices``.

    ``True`` opts in, ``False`` opts out, ``None`` forgets the choice (back to the default:
    subscribed). Categories absent from ``choices`` are left alone. Returns the
    (contact_id, category_id, subscribed) changes that were made.
    """
    by_id = {category.pk: (category, wanted) for category, wanted in choices.items()}
    changes: set[tuple[int, int, bool | None]] = set()
    if not by_id:
        return frozenset()
    for ids in contact_id_batches(contacts, must_exist=True):
        current = {
            (c, cat): subscribed
            for c, cat, subscribed in CategoryChoice.objects.filter(
                contact_id__in=ids, category_id__in=by_id
            ).values_list("contact_id", "category_id", "subscribed")
        }
        batch = [
            (c, cat, wanted)
            for c in ids
            for cat, (_, wanted) in by_id.items()
            if current.get((c, cat)) != wanted
        ]
        _write(batch, origin)
        record(
            [
                origin.event(
                    c,
                    ConsentSubject.CATEGORY,
                    subject_id=cat,
                    subject_label=by_id[cat][0].name,
                    field="subscribed",
                    old_value=current.get((c, cat)),
                    new_value=wanted,
                )
                for c, cat, wanted in batch
            ]
        )
        changes.update(batch)
    if changes:
        signals.categories_changed.send(
            sender=Category,
            contact_ids=frozenset(c for c, _, _ in changes),
            changes=frozenset(changes),
            origin=origin,
        )
    return frozenset(changes)


def _write(batch: list[tuple[int, int, bool | None]], origin: Origin) -> None:
    forgotten: dict[int, list[int]] = defaultdict(list)
    for c, cat, wanted in batch:
        if wanted is None:
            forgotten[cat].append(c)
    for cat, ids in forgotten.items():
        CategoryChoice.objects.filter(category_id=cat, contact_id__in=ids).delete()
    CategoryChoice.objects.bulk_create(
        [
            CategoryChoice(contact_id=c, category_id=cat, subscribed=wanted, source=origin.path)
            for c, cat, wanted in batch
            if wanted is not None
        ],
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["contact", "category"],
        update_fields=["subscribed", "changed_at", "source"],
    )
