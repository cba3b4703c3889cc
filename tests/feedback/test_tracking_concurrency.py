"""On PostgreSQL, outside a test's transaction: senders rendering one campaign at once
register each of its links once; a click is stored by the statement that skips the wait for
the disk."""

import pytest
from django.db import connection
from django.test import Client

from tests.factories import CampaignFactory
from tests.threads import at_once
from wagtail_preferences.feedback.tracking import register_links
from wagtail_preferences.models import CampaignLink, Engagement

from .tracking_helpers import allow, click_path, sent_delivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URLS = [f"https://shop.example/{n}" for n in range(6)]


def test_four_senders_registering_at_once_agree_on_every_number():
    campaign = CampaignFactory()
    # Each sender's email holds the links in another order, and not all of them.
    orders = [URLS, URLS[::-1], URLS[2:] + URLS[:2], URLS[1::2]]

    def ready():
        urls = orders.pop()
        return lambda: register_links(campaign.pk, urls)

    results = at_once(ready, 4)

    rows = list(CampaignLink.objects.filter(campaign=campaign).values_list("url", "number"))
    stored = dict(rows)
    assert sorted(url for url, _number in rows) == sorted(URLS)  # each once
    assert sorted(stored.values()) == list(range(1, len(URLS) + 1))
    for numbers in results:
        assert numbers == {url: stored[url] for url in numbers}


def test_a_click_outside_a_transaction_is_stored_without_waiting_for_the_disk():
    allow()
    delivery = sent_delivery(url="https://shop.example/bread")
    assert not connection.in_atomic_block

    response = Client().get(click_path(delivery), HTTP_USER_AGENT="Mozilla/5.0 (X11) Firefox/140")

    assert response["Location"] == "https://shop.example/bread"
    click = Engagement.objects.get()
    assert (click.delivery_id, click.link.number, click.machine) == (delivery.pk, 1, False)
