"""Readable sentences for consent events, as the admin shows them."""

from django.utils.translation import gettext as _

from ..channels.registry import get_channels
from ..models.consent import ConsentSubject
from ..models.contacts import Contact, ContactStatus, FrequencyPeriod
from ..services.suppressions import BLOCKED


def _status(value) -> str:
    return str(ContactStatus(value).label) if value in ContactStatus.values else str(value)


def _contact(event) -> str:
    if event.field == "created":
        return _("Contact created (%(status)s)") % {
            "status": _status((event.new_value or {}).get("status"))
        }
    try:
        label = Contact._meta.get_field(event.field).verbose_name
    except LookupError:
        label = event.field
    return _("%(field)s: %(old)s → %(new)s") % {
        "field": str(label).capitalize(),
        "old": event.old_value if event.old_value not in (None, "") else "—",
        "new": event.new_value if event.new_value not in (None, "") else "—",
    }


def _channel(event) -> str:
    channel = get_channels().get(event.subject_label)
    name = str(channel.label) if channel else event.subject_label
    value = event.new_value
    if event.field == "enabled":
        if value:
            return _("%(channel)s enabled") % {"channel": name}
        return _("%(channel)s disabled (do not contact)") % {"channel": name}
    if event.field == BLOCKED:
        if value:
            return _("%(channel)s address blocked") % {"channel": name}
        return _("%(channel)s address no longer blocked") % {"channel": name}
    if event.field == "frequency":
        if not value:
            return _("%(channel)s frequency: no limit") % {"channel": name}
        count, period = value
        return _("%(channel)s frequency: %(count)s %(period)s") % {
            "channel": name,
            "count": count,
            "period": FrequencyPeriod(period).label,
        }
    if event.field == "pause":
        if not value:
            return _("%(channel)s pause removed") % {"channel": name}
        return _("%(channel)s paused from %(start)s to %(end)s") % {
            "channel": name,
            "start": value[0] or "…",
            "end": value[1] or "…",
        }
    if value:
        return _("%(channel)s made the preferred channel") % {"channel": name}
    return _("%(channel)s no longer the preferred channel") % {"channel": name}


def _preference(event) -> str:
    if event.new_value:
        return _("Added preference “%(name)s”") % {"name": event.subject_label}
    return _("Removed preference “%(name)s”") % {"name": event.subject_label}


def _category(event) -> str:
    if event.new_value is None:
        return _("Category “%(name)s” back to the default (subscribed)") % {
            "name": event.subject_label
        }
    if event.new_value:
        return _("Opted in to category “%(name)s”") % {"name": event.subject_label}
    return _("Opted out of category “%(name)s”") % {"name": event.subject_label}


def _status_change(event) -> str:
    return _("Status: %(old)s → %(new)s") % {
        "old": _status(event.old_value),
        "new": _status(event.new_value),
    }


def _segment(event) -> str:
    name = {"name": event.subject_label}
    if event.field == "opted_out":
        if event.new_value:
            return _("Opted out of segment “%(name)s”") % name
        return _("Opted back in to segment “%(name)s”") % name
    if event.new_value:
        return _("Joined segment “%(name)s”") % name
    return _("Left segment “%(name)s”") % name


DESCRIBERS = {
    ConsentSubject.CONTACT: _contact,
    ConsentSubject.STATUS: _status_change,
    ConsentSubject.PREFERENCE: _preference,
    ConsentSubject.CATEGORY: _category,
    ConsentSubject.CHANNEL: _channel,
    ConsentSubject.SEGMENT: _segment,
}


def describe(event) -> str:
    return DESCRIBERS[event.subject](event)
