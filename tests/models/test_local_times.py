"""One clock: every time the admin and the emails show is in the site's time zone, saying which."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContactFactory, PreferenceFactory, SegmentFactory
from tests.import_helpers import make_run
from wagtail_preferences import clock, services
from wagtail_preferences.models import ChangePath, ContactExport, ExportPath, Segment
from wagtail_preferences.visitors import emails

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 12, 4, 13, 5, tzinfo=datetime.UTC)
SHORT = "12/04/2026 2:05 p.m. CET"  # AT in Brussels, in the admin's short format
LONG = "Dec. 4, 2026, 2:05 p.m. CET"


@pytest.fixture(autouse=True)
def brussels(settings):
    settings.TIME_ZONE = "Europe/Brussels"


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def changed_contact():
    with time_machine.travel(AT, tick=False):
        contact = ContactFactory(email="ann@example.com")
        services.add_preferences(
            contact, [PreferenceFactory(name="Products")], services.Origin(path=ChangePath.ADMIN)
        )
    return contact


class TestLocalTime:
    def test_it_converts_and_names_the_zone(self):
        assert clock.local_time(AT) == LONG
        assert clock.local_time(AT, "SHORT_DATETIME_FORMAT") == SHORT

    def test_the_zone_follows_the_current_one(self):
        with timezone.override("America/New_York"):
            assert clock.local_time(AT) == "Dec. 4, 2026, 8:05 a.m. EST"

    def test_none_is_empty(self):
        assert clock.local_time(None) == ""


class TestAdmin:
    def test_the_consent_log_overview_and_history(self, admin_client, changed_contact):
        log = admin_client.get(reverse("preference_center_consent:index")).content.decode()
        overview = admin_client.get(reverse("preference_center:index")).content.decode()
        edit = admin_client.get(
            reverse("preference_center_contacts:edit", args=[changed_contact.pk])
        ).content.decode()

        for html in (log, overview, edit):
            assert SHORT in html
            assert "1:05 p.m." not in html

    def test_the_contact_list_and_detail(self, admin_client, changed_contact):
        listing = admin_client.get(reverse("preference_center_contacts:index")).content.decode()
        detail = admin_client.get(
            reverse("preference_center_contacts:inspect", args=[changed_contact.pk])
        ).content.decode()

        assert SHORT in listing
        assert detail.count(LONG) == 2  # created and updated

    def test_the_export_log(self, admin_client):
        export = ContactExport.objects.create(
            created_by_label="deploy", description="All", file_format="csv", path=ExportPath.COMMAND
        )
        ContactExport.objects.filter(pk=export.pk).update(created_at=AT)

        html = admin_client.get(reverse("preference_center_exports:index")).content.decode()

        assert SHORT in html

    def test_the_import_list_and_detail(self, admin_client):
        with time_machine.travel(AT, tick=False):
            run = make_run("email\r\nann@example.com\r\n")

        listing = admin_client.get(reverse("preference_center_imports:index")).content.decode()
        detail = admin_client.get(
            reverse("preference_center_imports:detail", args=[run.pk])
        ).content.decode()

        assert SHORT in listing
        assert f"Uploaded on {LONG}" in detail


class TestEmails:
    def test_a_manage_link_says_until_when_in_the_sites_time(self, mailoutbox):
        contact = ContactFactory(email="ann@example.com")

        with time_machine.travel(AT, tick=False):
            emails.send_manage_link(contact, "https://example.com")

        # 60 days later, in winter time still.
        expected = "The link expires on Feb. 2, 2027, 2:05 p.m. CET."
        [message] = mailoutbox
        assert expected in message.body
        assert expected in message.alternatives[0][0]


def test_a_segments_refresh_time_is_local_too(admin_client):
    segment = SegmentFactory(name="Readers")
    Segment.objects.filter(pk=segment.pk).update(refreshed_at=AT)

    html = admin_client.get(reverse("preference_center_segments:list")).content.decode()

    assert f'<span title="{LONG}">Refreshed' in html
