import contextvars
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import replace

from django.db import transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from .. import signals
from ..audience import compiler
from ..audience import dependencies as needs
from ..conf import get_setting
from ..db.batches import BATCH_SIZE, analyze_on_commit, batched, insert_rows
from ..exceptions import InvalidChange
from ..models import (
    ChangePath,
    ConsentSubject,
    Contact,
    Segment,
    SegmentInclusion,
    SegmentMember,
    SegmentOptOut,
)
from .consent_log import record_rows
from .contact_sets import contact_ids
from .origin import Origin
from .preferences import give_preferences

# Set while ``refresh_contacts`` runs: it repeats until nothing changes, so the changes it
# makes (joins, leaves, preferences added on joining) need no refresh of their own. Changes
# made by any other refresh are refreshed for their contacts on commit, like any change,
# so that segments depending on them follow.
_refreshing = contextvars.ContextVar("wagtail_preferences_refreshing", default=False)


def segment_origin(segment: Segment) -> Origin:
    return Origin(path=ChangePath.SEGMENT, reference=f"segment “{segment.name}”")


def target_condition(segment: Segment) -> Q:
    """Who belongs in ``segment``: matching or added by hand, and not opted out."""
    problems = segment.criteria_problems()
    if problems:
        raise InvalidChange(f"Segment “{segment.name}” cannot be evaluated: {' '.join(problems)}")
    return (segment.condition() | compiler.member_of(segment, SegmentInclusion)) & ~(
        compiler.member_of(segment, SegmentOptOut)
    )


def members(segment: Segment):
    """The segment's current members, as stored."""
    return Contact.objects.filter(compiler.member_of(segment))


def refresh_segment(
    segment: Segment, *, contacts=None, origin: Origin | None = None
) -> tuple[frozenset[int], frozenset[int]]:
    """Bring the stored members of ``segment`` in line with who belongs in it.

    With ``contacts``, only those contacts are looked at. Joiners and leavers are computed in
    SQL (for given contacts, from who matches and who is stored); each gets a consent event,
    the signals go once, and joiners receive the segment's preferences to add on joining.
    Returns the ids of the contacts who joined and who left.
    """
    if contacts is not None:
        ids = contact_ids(contacts)
        stored = set(
            SegmentMember.objects.filter(segment=segment, contact_id__in=ids).values_list(
                "contact_id", flat=True
            )
        )
        return _refresh_for(segment, ids, stored, origin)
    with transaction.atomic():
        return _refresh_whole(segment, origin or segment_origin(segment))


def _refresh_whole(segment: Segment, origin: Origin) -> tuple[frozenset[int], frozenset[int]]:
    belongs = Contact.objects.filter(target_condition(segment))
    # Unordered, and NOT EXISTS rather than NOT IN: PostgreSQL hashes a NOT IN subquery only
    # while it fits in work_mem, and otherwise runs it once per member. The joiners are read
    # before they are stored: an INSERT ... SELECT that reads the member table would read
    # the rows it adds again for every contact.
    joined = list(
        belongs.exclude(compiler.member_of(segment)).order_by().values_list("pk", flat=True)
    )
    left = list(
        members(segment)
        .exclude(Exists(belongs.filter(pk=OuterRef("pk"))))
        .order_by()
        .values_list("pk", flat=True)
    )
    _change_members(segment, joined, left, origin)
    Segment.objects.filter(pk=segment.pk).update(refreshed_at=timezone.now())
    return frozenset(joined), frozenset(left)


def _refresh_for(segment, ids: list[int], stored: set[int], origin=None):
    """Refresh ``segment`` for the contacts ``ids``, of whom ``stored`` are members now.

    Who matches and who is stored are compared here: compiling the criteria once is most of
    the cost of a live refresh, and a segment nobody joins or leaves writes nothing.
    """
    belongs = Contact.objects.filter(target_condition(segment), pk__in=ids)
    return _store_changes(
        segment, set(belongs.order_by().values_list("pk", flat=True)), stored, origin
    )


def _store_changes(segment, matching: set[int], stored: set[int], origin=None):
    """Contacts who match and are not stored join, stored ones who do not match leave."""
    joined, left = list(matching - stored), list(stored - matching)
    if joined or left:
        with transaction.atomic(savepoint=False):
            _change_members(segment, joined, left, origin or segment_origin(segment))
    return frozenset(joined), frozenset(left)


def _change_members(segment, joined: list[int], left: list[int], origin: Origin) -> None:
    """Store who joined and left ``segment``: rows, consent events, signals, preferences."""
    # In contact order, as ``give_preferences`` writes: see there.
    joined = sorted(joined)
    insert_rows(SegmentMember, {"contact_id": joined}, segment_id=segment.pk, ignore_conflicts=True)
    _delete_members(segment, left)
    analyze_on_commit(SegmentMember, len(joined) + len(left))
    _announce(segment, joined, left, origin)


def _delete_members(segment, left: list[int]) -> None:
    for batch in batched(left, BATCH_SIZE):
        SegmentMember.objects.filter(segment=segment, contact_id__in=batch).delete()


def _announce(segment, joined: list[int], left: list[int], origin: Origin) -> None:
    """What follows stored joins and leaves: consent events, signals, preferences on joining."""
    _log(segment, joined, "member", False, True, origin)
    _log(segment, left, "member", True, False, origin)
    if joined:
        signals.segment_entered.send(
            sender=Segment, segment=segment, contact_ids=frozenset(joined), origin=origin
        )
        if on_join := list(segment.preferences_on_join.all()):
            # Whoever added the contact, the segment is what gives the preferences.
            given = segment_origin(segment)
            give_preferences(
                joined, on_join, replace(origin, path=given.path, reference=given.reference)
            )
    if left:
        signals.segment_left.send(
            sender=Segment, segment=segment, contact_ids=frozenset(left), origin=origin
        )


def _log(segment, contact_ids, field, old, new, origin: Origin) -> None:
    record_rows(
        origin.event(
            None,
            ConsentSubject.SEGMENT,
            subject_id=segment.pk,
            subject_label=segment.name,
            field=field,
            old_value=old,
            new_value=new,
        ),
        contact_id=list(contact_ids),
    )


def in_refresh_order(segments: Iterable[Segment]) -> list[Segment]:
    """The valid segments, ordered so that each comes after those its criteria refer to.

    Segments whose criteria cannot be evaluated are left out: they are never refreshed.
    """
    pending = {segment.pk: segment for segment in segments if not segment.criteria_problems()}
    ordered: list[Segment] = []
    while pending:
        ready = [s for s in pending.values() if not (s.referenced_segment_ids() & pending.keys())]
        if not ready:  # a cycle (refused when saving): refresh the rest as they come
            ready = list(pending.values())
        for segment in ready:
            ordered.append(pending.pop(segment.pk))
    return ordered


def refresh_contacts(contact_ids: Iterable[int], changes: Iterable[str] | None = None) -> None:
    """Refresh the valid segments' memberships for these contacts, cascades included.

    ``changes`` says what changed (``audience.dependencies`` tags; ``None``: unknown, so
    anything): only the segments whose criteria read it are refreshed, with those that
    follow them (see ``affected``).

    Each segment is refreshed after the segments its criteria refer to, so one pass settles
    memberships. Preferences given on joining may make the contacts match a segment refreshed
    earlier, and so may a membership if the order has a cycle: then this repeats until
    nothing changes (at most once per segment).
    """
    ids = list(contact_ids)
    segments = affected(
        in_refresh_order(Segment.objects.prefetch_related("preferences_on_join")), changes
    )
    if not segments:
        return
    settles = _follows_references(segments)
    stored: dict[int, set[int]] = {segment.pk: set() for segment in segments}
    for segment_id, contact_id in SegmentMember.objects.filter(
        segment__in=segments, contact_id__in=ids
    ).values_list("segment_id", "contact_id"):
        stored[segment_id].add(contact_id)
    token = _refreshing.set(True)
    try:
        # One transaction for the whole refresh: one commit, not one per segment changed.
        with transaction.atomic():
            _settle(_independent_groups(segments), ids, stored, settles)
    finally:
        _refreshing.reset(token)


def affected(segments: list[Segment], changes: Iterable[str] | None) -> list[Segment]:
    """Those of ``segments`` (in refresh order) that a change touching ``changes`` can affect.

    A segment is affected when its criteria read something the change touched, or read the
    membership of an affected segment, or a preference an affected segment gives on joining:
    followed until nothing more is reached. ``None`` (unknown changes) affects every segment.
    """
    if changes is None:
        return segments
    reach = set(changes)
    chosen: set[int] = set()
    reads = {segment.pk: segment.dependencies() for segment in segments}
    grew = True
    while grew:
        grew = False
        for segment in segments:
            if segment.pk not in chosen and needs.meet(reach, reads[segment.pk]):
                chosen.add(segment.pk)
                reach |= _touches(segment)
                grew = True
    return [segment for segment in segments if segment.pk in chosen]


def _touches(segment: Segment) -> set[str]:
    """What a change of ``segment``'s members touches: its membership, the preferences given."""
    given = needs.tags(needs.PREFERENCE, (p.pk for p in segment.preferences_on_join.all()))
    return {needs.tag(needs.SEGMENT, segment.pk)} | given


def refresh_segments(segment_ids=None, changes: Iterable[str] | None = None) -> tuple[int, int]:
    """Refresh whole segments, in dependency order, and those that follow them.

    The segments ``segment_ids`` are refreshed, and, with ``changes`` (tags of what a change
    to many contacts touched), those whose criteria read it; with neither, every segment.
    A segment whose members changed is followed by the segments that read its membership or
    the preferences it gives on joining, in the same pass, or in another when they came
    earlier in the order; the passes end when one refreshes nothing. The changes these
    refreshes make need no refresh of their own. Returns how many joined and left.
    """
    segments = in_refresh_order(Segment.objects.prefetch_related("preferences_on_join"))
    reads = {segment.pk: segment.dependencies() for segment in segments}
    # Those named, and those reading what changed; the segments that follow them are
    # reached as the refreshes change members.
    due = set(segment_ids or ())
    if segment_ids is None or changes is not None:
        due |= {segment.pk for segment in segments if needs.meet(changes, reads[segment.pk])}
    joined = left = 0
    token = _refreshing.set(True)
    try:
        for _ in range(len(segments) + 1):
            touched: set[str] = set()
            produced: list[tuple[int, set[str]]] = []
            for index, segment in enumerate(segments):
                if segment.pk not in due and not needs.meet(touched, reads[segment.pk]):
                    continue
                segment_joined, segment_left = refresh_segment(segment)
                joined, left = joined + len(segment_joined), left + len(segment_left)
                if segment_joined or segment_left:
                    touched |= _touches(segment)
                    produced.append((index, _touches(segment)))
            # What a segment touched that one before it in the order (or itself) reads.
            due = {
                segment.pk
                for index, segment in enumerate(segments)
                if any(at >= index and needs.meet(tags, reads[segment.pk]) for at, tags in produced)
            }
            if not due:
                break
    finally:
        _refreshing.reset(token)
    return joined, left


def _settle(groups, ids: list[int], stored: dict[int, set[int]], settles: bool) -> None:
    """Pass over ``groups`` until nothing changes that an earlier segment could depend on."""
    for _ in range(max(sum(map(len, groups)), 1)):
        changed = False
        for group in groups:
            matching = _matching(group, ids)
            for segment in group:
                joined, left = _store_changes(segment, matching[segment.pk], stored[segment.pk])
                stored[segment.pk] = (stored[segment.pk] | joined) - left
                gave = joined and segment.preferences_on_join.all()
                changed = changed or bool(gave or (not settles and (joined or left)))
        if not changed:
            return


def _independent_groups(segments: list[Segment]) -> list[list[Segment]]:
    """``segments`` cut, in order, into runs in which no segment refers to another of its run.

    A run's memberships can be evaluated in one query: the segments it refers to were
    refreshed, and stored, by the runs before it.
    """
    groups: list[list[Segment]] = []
    for segment in segments:
        if not groups or segment.referenced_segment_ids() & {s.pk for s in groups[-1]}:
            groups.append([])
        groups[-1].append(segment)
    return groups


def _matching(segments: list[Segment], ids: list[int]) -> dict[int, set[int]]:
    """Which of the contacts ``ids`` belong in each of ``segments``: one query for them all."""
    columns = {
        f"in_{segment.pk}": ExpressionWrapper(target_condition(segment), BooleanField())
        for segment in segments
    }
    rows = (
        Contact.objects.filter(pk__in=ids)
        .order_by()
        .annotate(**columns)
        .values_list("pk", *columns)
    )
    matching: dict[int, set[int]] = {segment.pk: set() for segment in segments}
    for pk, *belongs in rows:
        for segment, member in zip(segments, belongs, strict=True):
            if member:
                matching[segment.pk].add(pk)
    return matching


def _follows_references(segments: list[Segment]) -> bool:
    """Whether each segment comes after every segment (of these) its criteria refer to."""
    later = {segment.pk for segment in segments}
    for segment in segments:
        if segment.referenced_segment_ids() & later:
            return False
        later.discard(segment.pk)
    return True


def refreshing() -> bool:
    return _refreshing.get()


@transaction.atomic
def add_to_segment(contacts, segment: Segment, origin: Origin) -> frozenset[int]:
    """Add contacts to ``segment`` by hand; returns the ids of those who joined.

    Contacts who opted out of the segment stay out until they opt in again.
    """
    ids = contact_ids(contacts, must_exist=True)
    SegmentInclusion.objects.bulk_create(
        [SegmentInclusion(segment=segment, contact_id=pk, source=origin.path) for pk in ids],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    return refresh_segment(segment, contacts=ids, origin=origin)[0]


@transaction.atomic
def remove_from_segment(contacts, segment: Segment, origin: Origin) -> frozenset[int]:
    """Undo adding by hand; returns the ids of those who left (the rest still match)."""
    ids = contact_ids(contacts)
    SegmentInclusion.objects.filter(segment=segment, contact_id__in=ids).delete()
    return refresh_segment(segment, contacts=ids, origin=origin)[1]


@transaction.atomic
def opt_out_of_segment(contacts, segment: Segment, origin: Origin) -> frozenset[int]:
    """The contacts opt out: they leave and stay out, however they matched."""
    ids = contact_ids(contacts, must_exist=True)
    already = set(
        SegmentOptOut.objects.filter(segment=segment, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    new = [pk for pk in ids if pk not in already]
    SegmentOptOut.objects.bulk_create(
        [SegmentOptOut(segment=segment, contact_id=pk, source=origin.path) for pk in new],
        batch_size=BATCH_SIZE,
        ignore_conflicts=True,
    )
    _log(segment, new, "opted_out", False, True, origin)
    # None of them belongs now, so they leave without evaluating the criteria, which may not
    # be possible (a deleted preference): opting out always works.
    _leave(segment, SegmentMember.objects.filter(segment=segment, contact_id__in=ids), origin)
    return frozenset(new)


@transaction.atomic
def opt_in_to_segment(contacts, segment: Segment, origin: Origin) -> frozenset[int]:
    """Withdraw the contacts' opt-out; those who belong in the segment join it again."""
    ids = contact_ids(contacts)
    withdrawn = list(
        SegmentOptOut.objects.filter(segment=segment, contact_id__in=ids).values_list(
            "contact_id", flat=True
        )
    )
    SegmentOptOut.objects.filter(segment=segment, contact_id__in=withdrawn).delete()
    _log(segment, withdrawn, "opted_out", True, False, origin)
    # Criteria that cannot be evaluated wait for the refresh that follows their repair.
    if not segment.criteria_problems():
        refresh_segment(segment, contacts=ids, origin=origin)
    return frozenset(withdrawn)


@transaction.atomic
def release_segment(segment: Segment, origin: Origin) -> None:
    """Every member leaves ``segment``, logged, before the segment is deleted."""
    _leave(segment, SegmentMember.objects.filter(segment=segment), origin)


def _leave(segment: Segment, memberships, origin: Origin) -> None:
    """These ``memberships`` of ``segment`` end: rows deleted, logged, signalled once."""
    left = list(memberships.values_list("contact_id", flat=True))
    memberships.delete()
    _log(segment, left, "member", True, False, origin)
    if left:
        signals.segment_left.send(
            sender=Segment, segment=segment, contact_ids=frozenset(left), origin=origin
        )


# Refreshes after changes ------------------------------------------------------------------
# Contacts changed since the last commit, gathered until the first commit callback takes
# them all (the later ones find none). A rolled-back change leaves its ids for the next
# commit, where they cost a few queries.
_changed = contextvars.ContextVar("wagtail_preferences_changed", default=None)
_held = contextvars.ContextVar("wagtail_preferences_refresh_held", default=False)
# What those changes touched (tags), ``None`` for anything.
_touched = contextvars.ContextVar("wagtail_preferences_touched", default=None)

#: Stands for more changed contacts than a live refresh takes: whole segments are refreshed
#: (those the changes can affect).
EVERYONE = frozenset([0])

#: Sent on commit with the ``contact_ids`` whose segments are due for a refresh
#: (``EVERYONE`` for all contacts) and ``changes``, a sorted list of the tags of what
#: changed (``None``: anything); the signal handlers enqueue the refresh tasks.
refresh_due = Signal()


def defer_refresh(contact_ids: Iterable[int], changes: Iterable[str] | None = None) -> None:
    """Refresh these contacts' segments once the change commits, or when the batch ends.

    ``changes`` names what changed (``audience.dependencies`` tags); ``None``, the default,
    stands for anything, so that every segment is looked at.
    """
    changed = _changed.get()
    touched = _touched.get() if changed is not None else set()
    if changed is None:
        changed = set()
    if changed is not EVERYONE:
        changed.update(contact_ids)
        if len(changed) > get_setting("LIVE_REFRESH_LIMIT"):
            changed = EVERYONE
    _changed.set(changed)
    _touched.set(None if touched is None or changes is None else touched | set(changes))
    if not _held.get():
        transaction.on_commit(_release)


def changes_reported(signal, **kwargs) -> set[str] | None:
    """What a change signal (``signals.CONTACT_CHANGES``) says it changed, as tags; ``None``
    for a new contact, who may match any segment, and for signals not known here."""
    if signal is signals.preferences_added or signal is signals.preferences_removed:
        return needs.tags(needs.PREFERENCE, {p for _, p in kwargs["pairs"]})
    if signal is signals.categories_changed:
        return needs.tags(needs.CATEGORY, {c for _, c, _ in kwargs["changes"]})
    if signal is signals.channels_changed:
        return needs.tags(needs.CHANNEL, kwargs["channels"])
    if signal is signals.contact_status_changed:
        return {needs.STATUS}
    if signal is signals.contact_details_changed:
        fields = set(kwargs["fields"])
        return needs.tags(needs.DETAILS, fields) | ({needs.STATUS} if "status" in fields else set())
    if signal is signals.segment_entered or signal is signals.segment_left:
        return {needs.tag(needs.SEGMENT, kwargs["segment"].pk)}
    if signal is signals.form_submitted:
        return {needs.FORM}
    return None


@contextmanager
def refreshing_once():
    """Changes made inside refresh segments once, when the block ends, not at every commit.

    For work that commits in many batches, such as an import.
    """
    token = _held.set(True)
    try:
        yield
    finally:
        _held.reset(token)
        transaction.on_commit(_release)


def forget_deferred_refresh() -> None:
    """Drop the contacts waiting for a refresh (those of changes rolled back with a test)."""
    _changed.set(None)


def _release() -> None:
    changed, touched = _changed.get(), _touched.get()
    _changed.set(None)
    if changed:
        changes = None if touched is None else sorted(touched)
        refresh_due.send(sender=Segment, contact_ids=changed, changes=changes)
