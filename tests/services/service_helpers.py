"""What several service tests check: consent events, statements counted, contacts made in bulk."""

import math

from django.db import connection

from tests.factories import ContactFactory
from wagtail_preferences.db.batches import COPY_AFTER, INSERT_CHUNK
from wagtail_preferences.models import ConsentEvent, Contact


def assert_stamped(events, origin):
    assert events, "expected consent events"
    for event in events:
        assert event.path == origin.path
        assert event.reference == origin.reference
        assert event.actor == origin.user
        assert event.actor_label == (origin.user.get_username() if origin.user else "")
        assert event.ip_address == origin.ip_address
        assert event.user_agent == origin.user_agent
        assert event.wording == origin.wording


def logged(**filters):
    """(contact_id, subject_id, subject_label, field, old_value, new_value) of matching events."""
    return {
        (e.contact_id, e.subject_id, e.subject_label, e.field, e.old_value, e.new_value)
        for e in ConsentEvent.objects.filter(**filters)
    }


def insert_statements(model, rows, *, ignore_conflicts=False):
    """How many statements ``db.batches.insert_rows`` makes for ``rows`` rows.

    One per ``INSERT_CHUNK`` rows: no model instance nor statement per row. PostgreSQL takes
    many rows by COPY, which Django does not count; what is counted is its savepoint and, to
    ignore conflicts, the temporary table it goes through.
    """
    if connection.vendor == "postgresql" and rows >= COPY_AFTER:
        return 4 if ignore_conflicts else 2
    return math.ceil(rows / INSERT_CHUNK)


def make_contacts(count, **kwargs):
    return Contact.objects.bulk_create(ContactFactory.build_batch(count, **kwargs))


def as_kind(objects, kind):
    """The same objects given the ways callers give them: queryset, instances or ids."""
    model = type(objects[0])
    if kind == "queryset":
        return model.objects.filter(pk__in=[o.pk for o in objects])
    if kind == "instances":
        return list(objects)
    return [o.pk for o in objects]
