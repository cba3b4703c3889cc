"""One way to apply a contact's choices, whichever path they come through.

The admin's contact form, the visitor's manage page, form submissions, the importer and a
site's own code describe what a contact should hold as ``Choices`` and hand them to
``apply_choices`` (one contact) or ``apply_choices_to_many`` (a batch, such as an import's).
Both check the choices by the same rules (``check_choices``), refuse them all with
``InvalidChoices`` if any is wrong, and otherwise make them in one transaction through the
service functions, so consent events and signals are those of any other change.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace

from django.db import transaction
from django.utils.translation import gettext as _

from ..channels.registry import get_channels
from ..exceptions import InvalidChoices, Refusal
from ..models import Category, ChangePath, Contact, ContactStatus, Preference, Segment
from .categories import set_category_choice_pairs, set_category_choices
from .channels import ChannelSettings, update_channels
from .contacts import lock_contact, set_status
from .origin import Origin
from .preferences import (
    add_preference_pairs,
    add_preferences,
    remove_preference_pairs,
    remove_preferences,
)
from .segments import add_to_segment, opt_in_to_segment, opt_out_of_segment, remove_from_segment

#: Paths on which visitors choose for themselves: they choose among what is public.
VISITOR_PATHS = frozenset({ChangePath.SELF_SERVICE, ChangePath.FORM})


@dataclass(frozen=True)
class Choices:
    """What a contact should hold. ``None`` (or an empty mapping) leaves a part as it is.

    Each mapping names only what changes, by instance or id; what it leaves out stays as it is:

    - ``preferences``: ``{preference: held}``; ``True`` adds, ``False`` takes away.
    - ``categories``: ``{category: subscribed}``; ``True`` opts in, ``False`` opts out,
      ``None`` forgets the choice (back to the default: subscribed).
    - ``channels``: ``{channel key: ChannelSettings}``; other channels stay as they are.
    - ``segments_added_by_hand``: ``{segment: added}``; ``True`` adds the contact by hand,
      ``False`` undoes that (they stay a member if they match).
    - ``segments_opted_out``: ``{segment: opted_out}``; ``True`` opts out (they leave and
      stay out), ``False`` withdraws the opt-out.
    - ``status``: the contact's new status.
    """

    preferences: Mapping | None = None
    categories: Mapping | None = None
    channels: Mapping[str, ChannelSettings] | None = None
    segments_added_by_hand: Mapping | None = None
    segments_opted_out: Mapping | None = None
    status: str | None = None

    @classmethod
    def exactly(cls, chosen: Collection, offered: Collection) -> dict:
        """``{item: held}`` for each of ``offered``: a form's boxes, ticked or not."""
        chosen_ids = {_pk(item) for item in chosen}
        return {item: _pk(item) in chosen_ids for item in offered}

    def without(self, refusals: Collection[Refusal]) -> "Choices":
        """These choices less the items ``refusals`` name (a whole part, for a field refused)."""
        parts = {}
        for refusal in refusals:
            part = getattr(self, refusal.field)
            if refusal.item is None or not isinstance(part, Mapping):
                parts[refusal.field] = None
            else:
                parts[refusal.field] = {
                    key: value
                    for key, value in (parts.get(refusal.field) or part).items()
                    if _pk(key) != _pk(refusal.item)
                }
        return replace(self, **parts)

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def _pk(item):
    return getattr(item, "pk", item)


def membership_problem(segment: Segment) -> str:
    """Why a contact cannot be added to or removed from ``segment`` by hand now, or ``""``.

    Both evaluate the segment's criteria, which a deleted preference may have broken.
    """
    if problems := segment.criteria_problems():
        return _("“%(segment)s” cannot be evaluated until its criteria are fixed: %(why)s") % {
            "segment": segment.name,
            "why": " ".join(problems),
        }
    return ""


def check_choices(choices: Collection[Choices], origin: Origin) -> list[Refusal]:
    """What the rules refuse of ``choices`` made through ``origin``'s path.

    The rules, the same for every path:

    - preferences, categories and segments must exist; on a visitor's path (the manage page,
      a form) only public preferences may be chosen;
    - a category is opted in (``True``), out (``False``) or forgotten (``None``);
    - channels must be registered, with ``ChannelSettings``, at most one of them preferred;
    - a segment whose criteria cannot be evaluated takes nobody in or out by hand;
    - on the manage page a contact only opts in and out of public segments; a form only
      adds them by hand;
    - the status must be a contact status.

    Reads each kind of row once, however many contacts and choices: an import checks a
    whole batch in a few queries.
    """
    return _checked(choices, origin)[0]


def _checked(choices: Collection[Choices], origin: Origin) -> tuple[list[Refusal], dict]:
    """``check_choices``, and the rows it read: ``{field: {id: row}}``."""
    choices = list(choices)
    refusals: list[Refusal] = []
    rows = {
        "preferences": _rows(Preference, choices, "preferences"),
        "categories": _rows(Category, choices, "categories"),
        "segments": _rows(Segment, choices, "segments_added_by_hand", "segments_opted_out"),
    }
    seen: set[tuple[str, object]] = set()

    def refuse(field: str, item, message: str) -> None:
        if (field, _pk(item)) not in seen:
            seen.add((field, _pk(item)))
            refusals.append(Refusal(field, item, message))

    visitor = origin.path in VISITOR_PATHS
    channels = get_channels()
    for choice in choices:
        for item in choice.preferences or {}:
            preference = rows["preferences"].get(_pk(item))
            if preference is None:
                refuse("preferences", item, _("There is no preference %(id)s.") % {"id": _pk(item)})
            elif visitor and not preference.is_public:
                refuse(
                    "preferences",
                    preference,
                    _("“%(name)s” is not offered to visitors.") % {"name": preference.name},
                )
        for item, subscribed in (choice.categories or {}).items():
            if _pk(item) not in rows["categories"]:
                refuse("categories", item, _("There is no category %(id)s.") % {"id": _pk(item)})
            elif subscribed not in (True, False, None):
                refuse("categories", item, _("A category is opted in, out, or neither."))
        for key, settings in (choice.channels or {}).items():
            if key not in channels:
                refuse("channels", key, _("There is no channel “%(key)s”.") % {"key": key})
            elif not isinstance(settings, ChannelSettings):
                refuse("channels", key, _("Channel settings are not valid."))
        if sum(getattr(s, "is_preferred", False) for s in (choice.channels or {}).values()) > 1:
            refuse("channels", None, _("Only one channel can be preferred."))
        for field in ("segments_added_by_hand", "segments_opted_out"):
            for item, value in (getattr(choice, field) or {}).items():
                segment = rows["segments"].get(_pk(item))
                if segment is None:
                    refuse(field, item, _("There is no segment %(id)s.") % {"id": _pk(item)})
                elif message := _segment_refusal(segment, field, value, origin):
                    refuse(field, segment, message)
        if choice.status is not None and choice.status not in ContactStatus.values:
            refuse("status", None, _("“%(status)s” is not a status.") % {"status": choice.status})
    return refusals, rows


def _segment_refusal(segment: Segment, field: str, value: bool, origin: Origin) -> str:
    if origin.path == ChangePath.SELF_SERVICE and (
        field != "segments_opted_out" or not segment.is_public
    ):
        return _("“%(segment)s” is not a list visitors choose.") % {"segment": segment.name}
    if origin.path == ChangePath.FORM and (field != "segments_added_by_hand" or not value):
        return _("A form only adds contacts to segments.")
    if field == "segments_added_by_hand":
        return membership_problem(segment)
    return ""


def _rows(model, choices: list[Choices], *fields: str) -> dict:
    """The ``model`` rows that ``fields`` of ``choices`` name, by id, as they are now (an
    instance given may be older than a change to its row): one query."""
    ids = {_pk(item) for choice in choices for f in fields for item in getattr(choice, f) or {}}
    return model.objects.in_bulk(ids) if ids else {}


def _as_rows(choices: Choices, rows: dict) -> Choices:
    """``choices`` naming the rows read when they were checked, rather than ids or older
    instances: the services then read no row again."""

    def named(field: str, kind: str):
        part = getattr(choices, field)
        return {rows[kind][_pk(item)]: value for item, value in part.items()} if part else part

    return replace(
        choices,
        preferences=named("preferences", "preferences"),
        categories=named("categories", "categories"),
        segments_added_by_hand=named("segments_added_by_hand", "segments"),
        segments_opted_out=named("segments_opted_out", "segments"),
    )


@transaction.atomic
def apply_choices(
    contact: Contact, choices: Choices, origin: Origin, *, skip_refused: bool = False
) -> list[Refusal]:
    """Check ``choices`` and make them for ``contact``; returns the refused choices.

    What the rules refuse raises ``InvalidChoices`` and nothing is made; with
    ``skip_refused``, the refused choices are left out and the others made (as a form
    submission keeps what a visitor agreed to as far as it still can be).

    One transaction: everything is made, or, if anything fails, nothing. Each change is
    logged as a consent event with ``origin`` and signalled once, as the service functions
    do. ``contact.status`` follows a status change.
    """
    refusals, rows = _checked([choices], origin)
    if refusals and not skip_refused:
        raise InvalidChoices(refusals)
    choices = _as_rows(choices.without(refusals), rows)
    if not choices:
        return refusals
    lock_contact(contact)
    # Each service call is a savepoint of its own: only the calls with something to do.
    preferences = _by_value(choices.preferences)
    if preferences.get(True):
        add_preferences(contact, preferences[True], origin)
    if preferences.get(False):
        remove_preferences(contact, preferences[False], origin)
    if choices.categories:
        set_category_choices(contact, choices.categories, origin)
    if choices.channels:
        update_channels(contact, choices.channels, origin)
    _change_segments({contact.pk: choices}, origin, rows["segments"])
    if choices.status is not None and set_status(contact, choices.status, origin):
        contact.status = choices.status
    return refusals


@transaction.atomic
def apply_choices_to_many(choices: Mapping[int, Choices], origin: Origin) -> None:
    """``apply_choices`` for many contacts at once: ``{contact_id: Choices}``.

    Checked as a whole, and made in batches by kind of change: the number of queries grows
    with the number of distinct statuses and segments, not of contacts or preferences.
    Channels, which few batches change, are made contact by contact.
    """
    refusals, rows = _checked(choices.values(), origin)
    if refusals:
        raise InvalidChoices(refusals)
    for held, change in ((True, add_preference_pairs), (False, remove_preference_pairs)):
        if pairs := [
            (pk, _pk(p))
            for pk, choice in choices.items()
            for p, wanted in (choice.preferences or {}).items()
            if wanted is held
        ]:
            change(pairs, origin)
    if categories := [
        (pk, _pk(c), subscribed)
        for pk, choice in choices.items()
        for c, subscribed in (choice.categories or {}).items()
    ]:
        set_category_choice_pairs(categories, origin)
    if with_channels := [pk for pk, choice in choices.items() if choice.channels]:
        for contact in Contact.objects.filter(pk__in=with_channels):
            update_channels(contact, choices[contact.pk].channels, origin)
    _change_segments(choices, origin, rows["segments"])
    statuses = _by_value({pk: choice.status for pk, choice in choices.items()})
    for status, ids in statuses.items():
        if status is not None:
            set_status(ids, status, origin)


def _by_value(mapping: Mapping | None) -> dict[object, list]:
    """``{value: [keys]}`` of ``mapping``."""
    grouped = defaultdict(list)
    for key, value in (mapping or {}).items():
        grouped[value].append(key)
    return grouped


#: The segment services for each segment field of ``Choices``: (for ``True``, for ``False``).
SEGMENT_CHANGES = {
    "segments_added_by_hand": (add_to_segment, remove_from_segment),
    "segments_opted_out": (opt_out_of_segment, opt_in_to_segment),
}


def _change_segments(choices: Mapping[int, Choices], origin: Origin, segments: dict) -> None:
    """Make the segment changes of ``choices``: one call per segment and change.

    ``segments`` holds the segments they name, by id, as read when they were checked.
    """
    for field, (when_true, when_false) in SEGMENT_CHANGES.items():
        groups: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for pk, choice in choices.items():
            for segment, value in (getattr(choice, field) or {}).items():
                groups[_pk(segment), bool(value)].append(pk)
        for (segment, value), ids in groups.items():
            (when_true if value else when_false)(ids, segments[segment], origin)
