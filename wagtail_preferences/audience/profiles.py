"""What a contact holds, read in one query, for deciding what to show them.

A ``Profile`` answers "does this contact hold preference X, get category Y, belong to segment
Z?" without further queries. Dynamic content, template tags and (later) message bodies all
decide from a profile, so the same condition means the same thing on a page and in an email.

The profile comes as three columns of the contact's own row (``id:slug`` pairs joined by
commas), so a visitor is recognised and profiled in a single query.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from django.db import router
from django.db.models import CharField, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Cast, Concat

from ..db.aggregates import JoinedText
from ..models import Category, Contact, ContactStatus, Preference, Segment
from . import compiler

#: Contacts in these states receive no category at all.
NOT_RECEIVING = (ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED)

_COLUMNS = ("wp_preferences", "wp_categories", "wp_segments")


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
    """The profile of ``contact``; no query if it was read by ``contact_with_profile``."""
    if hasattr(contact, _COLUMNS[0]):
        return _profile(contact.status, *(getattr(contact, column) for column in _COLUMNS))
    return profiles_of([contact])[contact.pk]


def profiles_of(contacts: Iterable[Contact]) -> dict[int, Profile]:
    """The profile of each contact, by contact id: one query however many contacts."""
    rows = (
        Contact.objects.filter(pk__in=[contact.pk for contact in contacts])
        .order_by()
        .annotate(**_profile_columns())
        .values_list("pk", "status", *_COLUMNS)
    )
    return {pk: _profile(*columns) for pk, *columns in rows}


def contact_with_profile(**lookup) -> Contact | None:
    """The contact of one unique lookup (``pk=…`` or ``user_id=…``), profile included.

    One query, whose SQL is compiled once per process: building the ORM query took longer
    than running it, and this runs on every page a recognised visitor opens.
    """
    ((field_name, value),) = lookup.items()
    alias = router.db_for_read(Contact)
    sql, params, at = _compiled(alias, field_name)
    params = [*params[:at], value, *params[at + 1 :]]
    return next(iter(Contact.objects.raw(sql, params, using=alias)), None)


# A value no lookup holds, to find the lookup's place among the compiled query's parameters.
_PLACEHOLDER = -7_000_000_017


@cache
def _compiled(alias: str, field_name: str) -> tuple[str, tuple, int]:
    queryset = (
        Contact.objects.using(alias)
        .filter(**{field_name: _PLACEHOLDER})
        .order_by()
        .annotate(**_profile_columns())[:1]
    )
    sql, params = queryset.query.get_compiler(alias).as_sql()
    return sql, tuple(params), list(params).index(_PLACEHOLDER)


def _profile(status, preferences, categories, segments) -> Profile:
    return Profile(
        preferences=_pairs(preferences),
        categories={} if status in NOT_RECEIVING else _pairs(categories),
        segments=_pairs(segments),
    )


def _pairs(joined: str | None) -> dict[int, str]:
    """``{id: slug}`` from ``"id:slug,id:slug"`` (slugs hold neither ``:`` nor ``,``)."""
    if not joined:
        return {}
    return {int(pk): slug for pk, slug in (pair.split(":", 1) for pair in joined.split(","))}


def _profile_columns() -> dict[str, Subquery]:
    """The contact's held preferences, received categories and segments, as annotations."""
    opted_out = (
        compiler.category_opt_out_rows()
        .filter(contact=OuterRef(OuterRef("pk")))
        .values("category_id")
    )
    contact = OuterRef("pk")
    return {
        "wp_preferences": _joined(compiler.preference_rows().filter(contact=contact), "preference"),
        "wp_categories": _joined(Category.objects.exclude(pk__in=opted_out), None),
        "wp_segments": _joined(compiler.membership_rows().filter(contact=contact), "segment"),
    }


def _joined(queryset, interest: str | None) -> Subquery:
    """The ``id:slug`` pairs of ``queryset``'s rows (of ``interest``, or their own)."""
    pk, slug = (f"{interest}_id", f"{interest}__slug") if interest else ("pk", "slug")
    pair = Concat(Cast(pk, CharField()), Value(":"), slug, output_field=TextField())
    return Subquery(
        queryset.order_by()
        .annotate(_all=Value(1))
        .values("_all")
        .annotate(_pairs=JoinedText(pair))
        .values("_pairs")
    )
