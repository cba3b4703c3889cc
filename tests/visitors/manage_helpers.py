"""Addresses, constants and requests shared by the tests of the visitor's manage page."""

from tests.link_fixtures import events_of, form_fields
from tests.visitor_helpers import manage_path
from wagtail_preferences.models import ContactChannel

COOKIE = "wagtail_preferences"

LINK = "/preferences/link/"


def manage(client, contact, **kwargs):
    return client.get(manage_path(contact), **kwargs)


def save(client, contact, data, **kwargs):
    return client.post(manage_path(contact), data, **kwargs)


def current_data(client, contact):
    """What the page's form sends unchanged."""
    return form_fields(manage(client, contact))


def channel(contact, key):
    return ContactChannel.objects.filter(contact=contact, channel=key).first()


def new_events(contact, before: int):
    return events_of(contact).order_by("pk")[before:]
