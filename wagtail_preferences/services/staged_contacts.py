"""Creating many contacts from a staging table, with a few statements whatever their number.

An import stages its rows (``db.staging.StagingTable``) and marks those that make new
contacts; ``create_staged_contacts`` creates them, with what each row holds, its consent
events and the signals of ``create_contacts`` and ``apply_choices_to_many``. No object is made
per row: the database copies the rows from table to table.
"""

from collections.abc import Iterator

from django.db import transaction

from .. import signals
from ..db.insert_select import insert_select
from ..db.staging import StagingTable
from ..models import (
    Category,
    CategoryChoice,
    ConsentSubject,
    Contact,
    ContactPreference,
    Preference,
    Segment,
)
from .categories import send_changes
from .consent_log import record_selected
from .origin import Origin
from .preferences import send_pairs
from .segments import add_to_segment

#: Contacts or pairs per signal: receivers get the change in parts of a bounded size.
SIGNAL_CHUNK = 50_000


def new_contact_id(stage: StagingTable) -> str | None:
    """SQL that takes a new contact's id, where the database can before inserting it."""
    if stage.vendor != "postgresql":
        return None
    return f"nextval(pg_get_serial_sequence('{Contact._meta.db_table}', 'id'))"


@transaction.atomic
def create_staged_contacts(stage: StagingTable, origin: Origin, *, default_status: str) -> int:
    """Create a contact for each row of ``stage`` whose ``creates`` is true; returns how many.

    The rows' columns: ``email`` (normalised, valid, not taken), ``secret``; ``first_name``,
    ``last_name``, ``phone``, ``locale``, ``status`` and ``data`` (JSON text), NULL for a
    default; ``preferences`` (a JSON list of names of existing preferences), ``categories``
    (of ids of the categories opted out of) and ``segments`` (of ids of segments to add the
    contact to by hand), or NULL; ``contact_id``, the new contact's id if taken already by
    ``new_contact_id``, else NULL, and set to it here.
    """
    rows = f"FROM {stage.name} s WHERE s.creates"
    status = "COALESCE(s.status, %s)"
    details = ("first_name", "last_name", "phone", "locale")
    ids_taken = new_contact_id(stage) is not None
    created = insert_select(
        Contact,
        {
            **({"id": "s.contact_id"} if ids_taken else {}),
            "email": "s.email",
            "secret": "s.secret",
            **{name: f"COALESCE(s.{name}, '')" for name in details},
            "data": stage.json_value("COALESCE(s.data, '{}')"),
            "status": status,
        },
        rows,
        [default_status],
    )
    if not created:
        return 0
    if not ids_taken:
        _take_ids(stage)
    record_selected(
        origin.event(None, ConsentSubject.CONTACT, field="created"),
        {
            "contact_id": "s.contact_id",
            "new_value": stage.json_value(stage.json_object(email="s.email", status=status)),
        },
        rows,
        [default_status],
    )
    for ids in _chunks(stage, f"SELECT s.contact_id {rows}"):  # noqa: S608
        signals.contact_created.send(sender=Contact, contact_ids=frozenset(ids), origin=origin)
    _give_preferences(stage, origin)
    _opt_out(stage, origin)
    _add_to_segments(stage, origin)
    return created


def _take_ids(stage: StagingTable) -> None:
    """Set ``contact_id`` of the rows that created a contact, found by address."""
    stage.execute(
        f"UPDATE {stage.name} SET contact_id = "  # noqa: S608
        f"(SELECT c.id FROM {Contact._meta.db_table} c WHERE c.email = {stage.name}.email) "
        "WHERE creates"
    )


def _give_preferences(stage: StagingTable, origin: Origin) -> None:
    source = (
        f"FROM {stage.name} s CROSS JOIN {stage.json_elements('s.preferences', 'e')} "
        f"JOIN {Preference._meta.db_table} p ON p.name = e.value WHERE s.creates"
    )
    if not insert_select(
        ContactPreference,
        {"contact_id": "s.contact_id", "preference_id": "p.id"},
        source,
        source=origin.path,
    ):
        return
    template = origin.event(
        None, ConsentSubject.PREFERENCE, field="held", old_value=False, new_value=True
    )
    record_selected(
        template,
        {"contact_id": "s.contact_id", "subject_id": "p.id", "subject_label": "p.name"},
        source,
    )
    for pairs in _chunks(stage, f"SELECT s.contact_id, p.id {source}"):  # noqa: S608
        send_pairs(signals.preferences_added, pairs, origin)


def _opt_out(stage: StagingTable, origin: Origin) -> None:
    category = f"CAST(e.value AS {stage.type('int')})"
    source = (
        f"FROM {stage.name} s CROSS JOIN {stage.json_elements('s.categories', 'e')} "
        f"JOIN {Category._meta.db_table} c ON c.id = {category} WHERE s.creates"
    )
    if not insert_select(
        CategoryChoice,
        {"contact_id": "s.contact_id", "category_id": "c.id"},
        source,
        subscribed=False,
        source=origin.path,
    ):
        return
    record_selected(
        origin.event(None, ConsentSubject.CATEGORY, field="subscribed", new_value=False),
        {"contact_id": "s.contact_id", "subject_id": "c.id", "subject_label": "c.name"},
        source,
    )
    for pairs in _chunks(stage, f"SELECT s.contact_id, c.id {source}"):  # noqa: S608
        send_changes({(c, cat, False) for c, cat in pairs}, origin)


def _add_to_segments(stage: StagingTable, origin: Origin) -> None:
    """Add the new contacts to the segments their rows name, segment by segment."""
    named = f"CAST(e.value AS {stage.type('int')})"
    source = (
        f"FROM {stage.name} s CROSS JOIN {stage.json_elements('s.segments', 'e')} WHERE s.creates"
    )
    ids = [pk for (pk,) in stage.fetch(f"SELECT DISTINCT {named} {source}")]  # noqa: S608
    for segment in Segment.objects.filter(pk__in=ids):
        sql = f"SELECT s.contact_id {source} AND {named} = %s"  # noqa: S608
        add_to_segment([pk for (pk,) in stage.fetch(sql, [segment.pk])], segment, origin)


def _chunks(stage: StagingTable, sql: str) -> Iterator[list[tuple]]:
    """The rows of ``sql`` in lists of at most ``SIGNAL_CHUNK``, read from a server-side
    cursor where there is one: single values for one column, tuples for more."""
    with stage.connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(SIGNAL_CHUNK):
            yield [row[0] for row in rows] if len(rows[0]) == 1 else [tuple(r) for r in rows]
