from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.utils import timezone

from .. import signals
from ..audience import compiler
from ..db.batches import BATCH_SIZE, any_of, batched, insert_rows
from ..db.insert_select import insert_from, returns_inserted_rows
from ..models import ConsentSubject, Contact, ContactPreference, Preference
from .consent_log import record_rows
from .contact_sets import contact_id_batches
from .origin import Origin


def _preferences(preferences) -> list[Preference]:
    if isinstance(preferences, Preference):
        return [preferences]
    if isinstance(preferences, list | tuple) and all(
        isinstance(p, Preference) for p in preferences
    ):
        return list({p.pk: p for p in preferences}.values())
    return list(Preference.objects.filter(pk__in=[getattr(p, "pk", p) for p in preferences]))


def _event(origin: Origin, contact_id: int, preference: Preference, held: bool):
    return origin.event(
        contact_id,
        ConsentSubject.PREFERENCE,
        subject_id=preference.pk,
        subject_label=preference.name,
        field="held",
        old_value=not held,
        new_value=held,
    )


@transaction.atomic
def add_preferences(contacts, preferences, origin: Origin) -> frozenset[tuple[int, int]]:
    """Give every contact every preference it does not hold yet.

    Returns the (contact_id, preference_id) pairs that were added.
    """
    by_id = {p.pk: p for p in _preferences(preferences)}
    added: set[tuple[int, int]] = set()
    if not by_id:
        return frozenset()
    for ids in contact_id_batches(contacts, must_exist=True):
        added.update(_add(ids, [(c, p) for c in ids for p in by_id], by_id, origin))
    if added:
        send_pairs(signals.preferences_added, added, origin)
    return frozenset(added)


@transaction.atomic
def add_preference_pairs(pairs, origin: Origin) -> frozenset[tuple[int, int]]:
    """Give each contact of a (contact_id, preference_id) pair its preference, if not held.

    For changes that differ from contact to contact, such as an import's rows. The contacts
    must exist (the database's foreign key checks it). Returns the pairs that were added.
    """
    pairs, by_id = _existing_pairs(pairs)
    added: set[tuple[int, int]] = set()
    for batch in batched(pairs, BATCH_SIZE * 4):
        ids = list(dict.fromkeys(c for c, _ in batch))
        added.update(_add(ids, list(batch), by_id, origin))
    if added:
        send_pairs(signals.preferences_added, added, origin)
    return frozenset(added)


@transaction.atomic
def give_preferences(
    contact_ids: list[int], preferences, origin: Origin
) -> frozenset[tuple[int, int]]:
    """``add_preferences`` for many contacts just read from the database, such as the joiners
    of a segment: per preference, one statement gives it to those who lack it (and says
    who they were) and one more logs it, however many contacts there are. Returns the pairs
    added.
    """
    contacts = Contact.objects.filter(pk__in=any_of(Contact, "id", contact_ids))
    added: set[tuple[int, int]] = set()
    for preference in _preferences(preferences):
        # In contact order: the holdings, their consent events (in the order the holdings
        # are returned) and the foreign-key checks at commit then go through the indexes and
        # the contact table in order, not to a random page per row.
        lacking = contacts.exclude(compiler.holds_any([preference.pk])).order_by("pk")
        new = _insert_holdings(lacking, preference, origin)
        record_rows(_event(origin, None, preference, held=True), contact_id=new)
        added.update((contact_id, preference.pk) for contact_id in new)
    if added:
        send_pairs(signals.preferences_added, added, origin)
    return frozenset(added)


def _insert_holdings(contacts, preference: Preference, origin: Origin) -> list[int]:
    """Give ``preference`` to ``contacts`` (a queryset) in one statement; returns their ids."""
    columns = {
        "contact_id": F("pk"),
        "preference_id": Value(preference.pk),
        "source": Value(origin.path),
        "created_at": Value(timezone.now(), DateTimeField()),
    }
    if returns_inserted_rows(ContactPreference):
        return insert_from(
            ContactPreference, contacts, columns, ignore_conflicts=True, returning="contact_id"
        )
    ids = list(contacts.order_by().values_list("pk", flat=True))
    insert_from(
        ContactPreference,
        Contact.objects.filter(pk__in=any_of(Contact, "id", ids)),
        columns,
        ignore_conflicts=True,
    )
    return ids


def _existing_pairs(pairs) -> tuple[list[tuple[int, int]], dict[int, Preference]]:
    """The distinct ``pairs`` whose preference exists, and those preferences by id."""
    pairs = list(dict.fromkeys(pairs))
    by_id = {p.pk: p for p in _preferences({p for _, p in pairs})}
    return [pair for pair in pairs if pair[1] in by_id], by_id


def _add(ids, pairs, by_id: dict[int, Preference], origin: Origin) -> list[tuple[int, int]]:
    # By contact only, along the (contact, preference) index: filtered by preference too,
    # PostgreSQL may walk the preference's index, which grows with every batch added.
    held = set(
        ContactPreference.objects.filter(
            contact_id__in=any_of(ContactPreference, "contact_id", ids)
        ).values_list("contact_id", "preference_id")
    )
    new = [pair for pair in pairs if pair not in held]
    contact_ids, preference_ids = [c for c, _ in new], [p for _, p in new]
    insert_rows(
        ContactPreference,
        {"contact_id": contact_ids, "preference_id": preference_ids},
        source=origin.path,
        ignore_conflicts=True,
    )
    record_rows(
        _event(origin, None, next(iter(by_id.values())), held=True),
        contact_id=contact_ids,
        subject_id=preference_ids,
        subject_label=[by_id[p].name for p in preference_ids],
    )
    return new


@transaction.atomic
def remove_preferences(contacts, preferences, origin: Origin) -> frozenset[tuple[int, int]]:
    """Take the preferences away from every contact that holds them.

    Returns the (contact_id, preference_id) pairs that were removed.
    """
    by_id = {p.pk: p for p in _preferences(preferences)}
    removed: set[tuple[int, int]] = set()
    if not by_id:
        return frozenset()
    for ids in contact_id_batches(contacts):
        rows = list(
            ContactPreference.objects.filter(
                contact_id__in=ids, preference_id__in=by_id
            ).values_list("pk", "contact_id", "preference_id")
        )
        removed.update(_remove(rows, by_id, origin))
    if removed:
        send_pairs(signals.preferences_removed, removed, origin)
    return frozenset(removed)


@transaction.atomic
def remove_preference_pairs(pairs, origin: Origin) -> frozenset[tuple[int, int]]:
    """Take from each contact of a (contact_id, preference_id) pair its preference, if held.

    Returns the pairs that were removed.
    """
    pairs, by_id = _existing_pairs(pairs)
    removed: set[tuple[int, int]] = set()
    for batch in batched(pairs, BATCH_SIZE * 4):
        wanted = set(batch)
        rows = [
            row
            for row in ContactPreference.objects.filter(
                contact_id__in=any_of(ContactPreference, "contact_id", {c for c, _ in batch})
            ).values_list("pk", "contact_id", "preference_id")
            if (row[1], row[2]) in wanted
        ]
        removed.update(_remove(rows, by_id, origin))
    if removed:
        send_pairs(signals.preferences_removed, removed, origin)
    return frozenset(removed)


def _remove(rows, by_id: dict[int, Preference], origin: Origin) -> list[tuple[int, int]]:
    """Delete the holdings ``rows`` (pk, contact_id, preference_id) and log each."""
    ContactPreference.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    record_rows(
        _event(origin, None, next(iter(by_id.values())), held=False),
        contact_id=[c for _, c, _ in rows],
        subject_id=[p for _, _, p in rows],
        subject_label=[by_id[p].name for _, _, p in rows],
    )
    return [(c, p) for _, c, p in rows]


@transaction.atomic
def set_preferences(
    contact, chosen, origin: Origin, offered=None
) -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
    """Make ``contact`` hold exactly ``chosen`` among ``offered`` (default: all preferences).

    Preferences that were not offered are left as they are, so a form changes only what
    it showed. Returns the (contact_id, preference_id) pairs added and removed.
    """
    chosen_ids = {getattr(p, "pk", p) for p in chosen}
    held_ids = set(contact.preference_holdings.values_list("preference_id", flat=True))
    offered_ids = (
        {getattr(p, "pk", p) for p in offered}
        if offered is not None
        else set(Preference.objects.values_list("pk", flat=True))
    )
    chosen_ids &= offered_ids
    removed = remove_preferences(contact, (held_ids & offered_ids) - chosen_ids, origin)
    added = add_preferences(contact, chosen_ids - held_ids, origin)
    return added, removed


def send_pairs(signal, pairs: set[tuple[int, int]], origin: Origin) -> None:
    signal.send(
        sender=Preference,
        contact_ids=frozenset(c for c, _ in pairs),
        pairs=frozenset(pairs),
        origin=origin,
    )
