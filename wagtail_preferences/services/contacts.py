from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .. import signals
from ..exceptions import InvalidChange
from ..models import ConsentSubject, Contact, ContactStatus, normalise_email
from .batches import contact_id_batches, record
from .origin import Origin

#: Contact fields whose changes the consent log records.
DETAIL_FIELDS = ("email", "first_name", "last_name", "phone", "locale", "user", "data")


def _logged(contact: Contact, name: str):
    return getattr(contact, "user_id" if name == "user" else name)


def _email(value: str) -> str:
    email = normalise_email(value)
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidChange(f"{value!r} is not an email address.") from None
    return email


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
