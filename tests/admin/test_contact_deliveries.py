"""The contact's History tab lists the messages sent to the contact."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.admin.admin_helpers import CONTACTS
from tests.factories import CampaignFactory, ContactFactory, DeliveryFactory
from wagtail_preferences.admin.panels import DeliveryHistoryPanel
from wagtail_preferences.models import Contact, DeliveryStatus, SkipReason

pytestmark = pytest.mark.django_db


def panel_context(contact, request):
    panel = DeliveryHistoryPanel().bind_to_model(Contact)
    return panel.get_bound_panel(instance=contact, request=request).get_context_data()


@pytest.fixture
def contact():
    return ContactFactory(confirmed=True)


def test_history_tab_lists_messages_newest_first(admin_client, contact):
    now = timezone.now()
    old = CampaignFactory(name="Old news")
    DeliveryFactory(contact=contact, campaign=old, sent_at=now - datetime.timedelta(days=3))
    DeliveryFactory(
        contact=contact,
        campaign=CampaignFactory(name="New news"),
        status=DeliveryStatus.SKIPPED,
        reason=SkipReason.PAUSED,
        sent_at=None,
    )
    content = admin_client.get(reverse(f"{CONTACTS}:edit", args=[contact.pk])).content.decode()
    assert "Messages sent" in content
    assert content.index("New news") < content.index("Old news")
    assert "Not sent: Paused messages" in content
    assert old.message.name in content


def test_one_query_and_the_history_limit(rf, superuser, contact, settings):
    settings.WAGTAIL_PREFERENCES = {"HISTORY_PANEL_LIMIT": 2}
    DeliveryFactory.create_batch(3, contact=contact)
    DeliveryFactory()  # another contact's
    request = rf.get("/")
    request.user = superuser
    with CaptureQueriesContext(connection) as captured:
        context = panel_context(contact, request)
    assert len(context["deliveries"]) == 2
    assert len([q for q in captured if "wagtail_preferences_delivery" in q["sql"]]) == 1


def test_a_new_contact_has_none(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    assert panel_context(Contact(), request)["deliveries"] == []
