from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import signals
from ..db.batches import BATCH_SIZE, any_of, batched, insert_rows
from ..exceptions import InvalidChange
from ..models import ConsentSubject, Contact, ContactStatus, EmailChange, normalise_email
from ..models.contacts import new_secrets
from .consent_log import record, record_rows
from .contact_sets import contact_id_batches
from .origin import Origin

#: Contact fields whose changes the consent log records.
DETAIL_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "locale",
    "user",
    "data",
    "refuses_tracking",
)
#: The details ``create_contacts`` and ``update_contacts`` set on many contacts at once.
BULK_FIELDS = ("first_name", "last_name", "phone", "locale", "data")


def _logged(contact: Contact, name: str):
    return getattr(contact, "user_id" if name == "user" else name)


def _email(value: str) -> str:
    email = normalise_email(value)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidChange(f"{value!r} is not an email address.") from None
    return email


def lock_contact(contact: Contact) -> None:
    """Hold the contact's row until the transaction ends.

    Concurrent changes of one contact then run one after the other, and each reads what the
    one before it wrote: the same change sent twice at once is made, and logged, once.
    """
    list(Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk"))


@transaction.atomic
def get_or_create_contact(email: str, origin: Origin, **details) -> tuple[Contact, bool]:
    """The contact with ``email`` (in any case), created with ``details`` if it is new.

    Safe when two requests create the same address at once: the database's unique
    constraint decides, and the loser gets the winner's contact.
    """
    contact, created = Contact.objects.get_or_create(email=_email(email), defaults=details)
    if created:
        record(
            [
                origin.event(
                    contact.pk,
                    ConsentSubject.CONTACT,
                    field="created",
                    new_value={"email": contact.email, "status": contact.status},
                )
            ]
        )
        signals.contact_created.send(
            sender=Contact, contact_ids=frozenset([contact.pk]), origin=origin
        )
    return contact, created


@transaction.atomic
def update_details(contact: Contact, changes: dict, origin: Origin) -> frozenset[str]:
    """Change the contact's details in ``changes``; returns the names of the changed fields."""
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidChange(f"Not contact details: {', '.join(sorted(unknown))}")
    if "email" in changes:
        changes = {**changes, "email": _email(changes["email"])}
        if Contact.objects.filter(email=changes["email"]).exclude(pk=contact.pk).exists():
            raise InvalidChange(f"{changes['email']} is another contact's address.")
    lock_contact(contact)
    contact.refresh_from_db(fields=list(changes))
    old = {name: _logged(contact, name) for name in changes}
    for name, value in changes.items():
        setattr(contact, name, value)
    new = {name: _logged(contact, name) for name in changes}
    changed = [name for name in changes if old[name] != new[name]]
    if not changed:
        return frozenset()
    # Only the changed fields: a stale instance must not write back anything else (its status).
    contact.save(update_fields=[*changed, "updated_at"])
    record(
        [
            origin.event(
                contact.pk,
                ConsentSubject.CONTACT,
                field=name,
                old_value=old[name],
                new_value=new[name],
            )
            for name in changed
        ]
    )
    signals.contact_details_changed.send(
        sender=Contact,
        contact_ids=frozenset([contact.pk]),
        fields=frozenset(changed),
        origin=origin,
    )
    return frozenset(changed)


@transaction.atomic
def request_email_change(contact: Contact, new_email: str) -> bool:
    """Keep ``new_email`` as the address ``contact`` asked for, until it is confirmed from it.

    A newer request replaces an older one. Returns False, keeping nothing, when the address
    is another contact's: callers answer the visitor alike either way.
    """
    new_email = _email(new_email)
    lock_contact(contact)
    if Contact.objects.filter(email=new_email).exclude(pk=contact.pk).exists():
        return False
    EmailChange.objects.update_or_create(contact=contact, defaults={"new_email": new_email})
    return True


@transaction.atomic
def apply_email_change(contact: Contact, new_email: str, origin: Origin) -> bool:
    """Make the address ``contact`` asked for (``request_email_change``) theirs.

    The contact's secret is rotated: links sent to the old address stop working. Returns
    False, changing nothing, when that request is gone or the address has become another
    contact's meanwhile.
    """
    lock_contact(contact)
    if not EmailChange.objects.filter(contact=contact, new_email=new_email).delete()[0]:
        return False
    try:
        with transaction.atomic():
            update_details(contact, {"email": new_email}, origin)
    except (InvalidChange, IntegrityError):
        return False
    contact.rotate_secret()
    return True


@transaction.atomic
def create_contacts(contacts: list[dict], origin: Origin) -> dict[str, int]:
    """Create a contact per dict of details (``email`` required, valid and not yet taken).

    Returns each new contact's id by email. A taken address fails the whole batch with the
    database's integrity error: callers look up existing contacts first.
    """
    if not contacts:
        return {}
    emails = [normalise_email(c["email"]) for c in contacts]
    columns: dict[str, list] = {"email": emails, "secret": new_secrets(len(emails))}
    for name in BULK_FIELDS:
        columns[name] = [c.get(name, {} if name == "data" else "") for c in contacts]
    columns["status"] = [c.get("status", ContactStatus.PENDING) for c in contacts]
    new_ids = insert_rows(Contact, columns, with_ids=True)
    ids: dict[str, int] = dict(zip(emails, new_ids or (), strict=False))
    if new_ids is None:
        for batch in batched(emails, BATCH_SIZE * 10):
            ids.update(
                Contact.objects.filter(email__in=any_of(Contact, "email", batch))
                .order_by()
                .values_list("email", "pk")
            )
    record_rows(
        origin.event(None, ConsentSubject.CONTACT, field="created"),
        contact_id=[ids[email] for email in emails],
        new_value=[
            {"email": email, "status": status}
            for email, status in zip(emails, columns["status"], strict=True)
        ],
    )
    signals.contact_created.send(sender=Contact, contact_ids=frozenset(ids.values()), origin=origin)
    return ids


@transaction.atomic
def update_contacts(changes: dict[int, dict], origin: Origin) -> frozenset[int]:
    """Change many contacts' details at once: ``{contact_id: {field: value}}``.

    Values equal to the stored ones are left out. Returns the ids of the contacts that changed.
    ``email`` and ``user`` change one contact at a time, through ``update_details``.
    """
    unknown = {name for fields in changes.values() for name in fields} - set(BULK_FIELDS)
    if unknown:
        raise InvalidChange(f"Not contact details changed in bulk: {', '.join(sorted(unknown))}")
    changed: set[int] = set()
    names: set[str] = set()
    for ids in batched(changes, BATCH_SIZE):
        contacts = list(Contact.objects.filter(pk__in=ids).only("pk", *BULK_FIELDS))
        events, dirty = [], []
        for contact in contacts:
            fields = [n for n, v in changes[contact.pk].items() if getattr(contact, n) != v]
            for name in fields:
                events.append(
                    origin.event(
                        contact.pk,
                        ConsentSubject.CONTACT,
                        field=name,
                        old_value=getattr(contact, name),
                        new_value=changes[contact.pk][name],
                    )
                )
                setattr(contact, name, changes[contact.pk][name])
            if fields:
                dirty.append(contact)
                names.update(fields)
        if dirty:
            now = timezone.now()
            for contact in dirty:
                contact.updated_at = now
            fields = sorted({event.field for event in events})
            Contact.objects.bulk_update(dirty, [*fields, "updated_at"], batch_size=BATCH_SIZE // 4)
            record(events)
            changed.update(c.pk for c in dirty)
    if changed:
        signals.contact_details_changed.send(
            sender=Contact, contact_ids=frozenset(changed), fields=frozenset(names), origin=origin
        )
    return frozenset(changed)


@transaction.atomic
def set_status(contacts, status: str, origin: Origin) -> frozenset[int]:
    """Give every contact ``status``; returns the ids of the contacts that changed."""
    if status not in ContactStatus.values:
        raise InvalidChange(f"{status!r} is not a contact status.")
    status = ContactStatus(status)
    changed: set[int] = set()
    for ids in contact_id_batches(contacts):
        rows = list(
            Contact.objects.filter(pk__in=ids).exclude(status=status).values_list("pk", "status")
        )
        Contact.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            status=status, updated_at=timezone.now()
        )
        record(
            [
                origin.event(
                    pk,
                    ConsentSubject.STATUS,
                    field="status",
                    old_value=old,
                    new_value=status.value,
                )
                for pk, old in rows
            ]
        )
        changed.update(pk for pk, _ in rows)
    if changed:
        signals.contact_status_changed.send(
            sender=Contact, contact_ids=frozenset(changed), status=status, origin=origin
        )
    return frozenset(changed)
