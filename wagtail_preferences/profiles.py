"""What a contact holds, read in one query, for deciding what to show them.

A ``Profile`` answers "does this contact hold preference X, get category Y, belong to segment
Z?" without further queries. Dynamic content, template tags and (later) message bodies all
decide from a profile, so the same condition means the same thing on a page and in an email.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import CharField, F, IntegerField, Value

from . import identity
from .models import (
    Category,
    CategoryChoice,
    Contact,
    ContactPreference,
    ContactStatus,
    Preference,
    Segment,
    SegmentMember,
)

#: Contacts in these states receive no category at all.
NOT_RECEIVING = (ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED)


@dataclass(frozen=True)
class Profile:
    """Preferences, categories and segments of one contact, by id and by slug."""

    preferences: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)
    segments: dict[int, str] = field(default_factory=dict)

    def holds(self, preference) -> bool:
        return _is_in(preference, self.preferences)

    def subscribed_to(self, category) -> bool:
        """Receives ``category``: it exists, was not opted out of, and the contact is not
        unsubscribed or blocked."""
        return _is_in(category, self.categories)

    def in_segment(self, segment) -> bool:
        return _is_in(segment, self.segments)


def _is_in(interest, held: dict[int, str]) -> bool:
    """``interest`` is an instance, a primary key or a slug."""
    if isinstance(interest, Preference | Category | Segment):
        return interest.pk in held
    if isinstance(interest, int) and not isinstance(interest, bool):
        return interest in held
    if isinstance(interest, str):
        return interest in held.values() or (interest.isdigit() and int(interest) in held)
    return False


def profile_of(contact: Contact) -> Profile:
    return profiles_of([contact])[contact.pk]


def profiles_of(contacts: Iterable[Contact]) -> dict[int, Profile]:
    """The profile of each contact, by contact id: one query however many contacts."""
    contacts = list(contacts)
    ids = [contact.pk for contact in contacts]
    rows = _rows(ContactPreference.objects.filter(contact_id__in=ids), "p", "preference").union(
        _rows(SegmentMember.objects.filter(contact_id__in=ids), "s", "segment"),
        _rows(CategoryChoice.objects.filter(contact_id__in=ids, subscribed=False), "o", "category"),
        _rows(Category.objects.all(), "c"),
        all=True,
    )
    found = {pk: {"p": {}, "o": {}, "s": {}} for pk in ids}
    categories: dict[int, str] = {}
    for kind, contact_id, pk, slug in rows:
        if kind == "c":
            categories[pk] = slug
        else:
            found[contact_id][kind][pk] = slug
    return {
        contact.pk: Profile(
            preferences=found[contact.pk]["p"],
            categories={}
            if contact.status in NOT_RECEIVING
            else {pk: slug for pk, slug in categories.items() if pk not in found[contact.pk]["o"]},
            segments=found[contact.pk]["s"],
        )
        for contact in contacts
    }


def _rows(queryset, kind: str, interest: str | None = None):
    """(kind, contact id, interest id, interest slug) rows; all categories without ``interest``."""
    if interest is None:
        contact, pk, slug = Value(None, output_field=IntegerField()), F("pk"), F("slug")
    else:
        contact, pk, slug = F("contact_id"), F(f"{interest}_id"), F(f"{interest}__slug")
    return (
        queryset.order_by()
        .annotate(_kind=Value(kind, output_field=CharField()), _contact=contact, _pk=pk, _slug=slug)
        .values_list("_kind", "_contact", "_pk", "_slug")
    )


_CACHE = "_wagtail_preferences_profile"


def current_profile(request) -> Profile | None:
    """The profile of the visitor (or of the previewed visitor); None for an unknown one.

    Read once per request, however many blocks and tags ask.
    """
    if hasattr(request, identity.PREVIEW_ATTRIBUTE):
        return getattr(request, identity.PREVIEW_ATTRIBUTE)
    if not hasattr(request, _CACHE):
        contact = identity.current_contact(request)
        setattr(request, _CACHE, None if contact is None else profile_of(contact))
    return getattr(request, _CACHE)
