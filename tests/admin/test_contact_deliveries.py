"""The contact's History tab lists the messages sent to the contact, what became of them,
and the contact's opens and clicks."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.admin.admin_helpers import CONTACTS
from tests.factories import (
    CampaignFactory,
    CampaignLinkFactory,
    ContactFactory,
    DeliveryFactory,
    EngagementFactory,
)
from wagtail_preferences.admin.panels import DeliveryHistoryPanel
from wagtail_preferences.models import Contact, DeliveryOutcome, DeliveryStatus, SkipReason

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


def test_each_message_shows_its_outcome_opens_and_clicks(admin_client, contact):
    now = timezone.now()
    opened = DeliveryFactory(
        contact=contact,
        campaign=CampaignFactory(name="Opened news"),
        outcome=DeliveryOutcome.DELIVERED,
        outcome_at=now,
        unsubscribed_at=now,
    )
    EngagementFactory.create_batch(2, delivery=opened)
    EngagementFactory(delivery=opened, machine=True)
    link = CampaignLinkFactory(campaign=opened.campaign, url="https://example.com/shop/")
    EngagementFactory.create_batch(2, delivery=opened, click=True, link=link)
    EngagementFactory(delivery=opened, click=True, link=link, machine=True)
    proxied = DeliveryFactory(contact=contact, outcome=DeliveryOutcome.HARD_BOUNCE)
    EngagementFactory(delivery=proxied, machine=True)
    DeliveryFactory(contact=contact)
    content = admin_client.get(reverse(f"{CONTACTS}:edit", args=[contact.pk])).content.decode()
    assert "Sent, delivered" in content
    assert "Unsubscribed from this message" in content
    assert "Opened 2 times" in content
    assert "Clicked https://example.com/shop/ (2 times)" in content
    assert "One click by a link scanner" in content
    assert "Sent, hard bounce" in content
    assert "Opened by a machine only" in content
    assert "Not opened, or not tracked" in content


def test_opens_and_clicks_take_one_more_query(rf, superuser, contact, django_assert_num_queries):
    for _ in range(5):
        delivery = DeliveryFactory(contact=contact)
        EngagementFactory(delivery=delivery)
        EngagementFactory(delivery=delivery, click=True)
    request = rf.get("/")
    request.user = superuser
    with django_assert_num_queries(2):
        context = panel_context(contact, request)
    assert [len(d.engagement.clicked) for d in context["deliveries"]] == [1] * 5
