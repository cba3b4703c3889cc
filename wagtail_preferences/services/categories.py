from collections import defaultdict
from collections.abc import Iterable, Mapping

from django.db import transaction

from .. import signals
from ..db.batches import BATCH_SIZE, any_of, batched
from ..models import Category, CategoryChoice, ConsentSubject
from .consent_log import record_rows
from .contact_sets import contact_id_batches
from .origin import Origin

Change = tuple[int, int, bool | None]


@transaction.atomic
def set_category_choices(
    contacts, choices: Mapping[Category, bool | None], origin: Origin
) -> frozenset[Change]:
    """Set each contact's choice for each category in ``choices``.

    ``True`` opts in, ``False`` opts out, ``None`` forgets the choice (back to the default:
    subscribed). Categories absent from ``choices`` are left alone. Returns the
    (contact_id, category_id, subscribed) changes that were made.
    """
    by_id = {category.pk: category for category in choices}
    wanted = {category.pk: value for category, value in choices.items()}
    changes: set[Change] = set()
    if not by_id:
        return frozenset()
    for ids in contact_id_batches(contacts, must_exist=True):
        batch = [(c, cat, value) for c in ids for cat, value in wanted.items()]
        changes.update(_change(batch, by_id, origin))
    send_changes(changes, origin)
    return frozenset(changes)


@transaction.atomic
def set_category_choice_pairs(choices: Iterable[Change], origin: Origin) -> frozenset[Change]:
    """Set each (contact_id, category_id, subscribed) choice: one per contact and category.

    For choices that differ from contact to contact, such as an import's rows. The contacts
    must exist (the database's foreign key checks it). Returns the changes that were made.
    """
    choices = list({(c, cat): (c, cat, value) for c, cat, value in choices}.values())
    by_id = Category.objects.in_bulk({cat for _, cat, _ in choices})
    changes: set[Change] = set()
    for batch in batched((choice for choice in choices if choice[1] in by_id), BATCH_SIZE * 4):
        changes.update(_change(list(batch), by_id, origin))
    send_changes(changes, origin)
    return frozenset(changes)


def _change(batch: list[Change], by_id: dict[int, Category], origin: Origin) -> list[Change]:
    """Make the choices of ``batch`` that differ from the stored ones, and log them."""
    current = {
        (c, cat): subscribed
        for c, cat, subscribed in CategoryChoice.objects.filter(
            contact_id__in=any_of(CategoryChoice, "contact_id", {c for c, _, _ in batch}),
            category_id__in=by_id,
        ).values_list("contact_id", "category_id", "subscribed")
    }
    batch = [(c, cat, value) for c, cat, value in batch if current.get((c, cat)) != value]
    _write(batch, origin)
    template = origin.event(None, ConsentSubject.CATEGORY, field="subscribed")
    record_rows(
        template,
        contact_id=[c for c, _, _ in batch],
        subject_id=[cat for _, cat, _ in batch],
        subject_label=[by_id[cat].name for _, cat, _ in batch],
        old_value=[current.get((c, cat)) for c, cat, _ in batch],
        new_value=[value for _, _, value in batch],
    )
    return batch


def send_changes(changes: set[Change], origin: Origin) -> None:
    if changes:
        signals.categories_changed.send(
            sender=Category,
            contact_ids=frozenset(c for c, _, _ in changes),
            changes=frozenset(changes),
            origin=origin,
        )


def _write(batch: list[Change], origin: Origin) -> None:
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
