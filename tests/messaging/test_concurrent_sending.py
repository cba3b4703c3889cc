"""Several senders at once, on PostgreSQL: nobody twice, nobody over a frequency cap."""

from collections import Counter

import pytest
from django.core import mail

from tests.channels.smtp_server import RefusingHandler, serve
from tests.factories import CampaignFactory, ContactChannelFactory, ContactFactory
from tests.threads import at_once
from wagtail_preferences.messaging import dispatch, planning
from wagtail_preferences.models import Delivery, DeliveryStatus, FrequencyPeriod, SkipReason

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONTACTS = 60


@pytest.fixture
def small_batches(settings):
    settings.WAGTAIL_PREFERENCES = {"SEND_BATCH_SIZE": 7, "SEND_CHUNK_SIZE": 3}


def test_four_senders_share_a_campaign_and_send_each_recipient_one_message(products, small_batches):
    contacts = [ContactFactory(confirmed=True, preferences=[products]) for _ in range(CONTACTS)]
    campaign = CampaignFactory(preferences=[products])
    planning.begin(campaign)

    at_once(lambda: lambda: dispatch.run(campaign.pk), 4)

    assert Counter(m.to[0] for m in mail.outbox) == Counter(c.email for c in contacts)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


class PeersHandler(RefusingHandler):
    """Notes the client end (address, port) of the connection each message came on."""

    def __init__(self):
        super().__init__()
        self.peers = []

    async def handle_DATA(self, server, session, envelope):
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


def test_a_sender_with_three_connections_sends_each_recipient_one_message_over_several(
    products, settings
):
    settings.WAGTAIL_PREFERENCES = {"SEND_CHUNK_SIZE": 2, "SEND_CONNECTIONS": 3}
    handler = PeersHandler()
    server = serve(settings, handler)
    contacts = [ContactFactory(confirmed=True, preferences=[products]) for _ in range(CONTACTS)]
    campaign = CampaignFactory(preferences=[products])
    planning.begin(campaign)

    try:
        dispatch.run(campaign.pk)
    finally:
        server.stop()

    received = Counter(m["To"] for m in handler.messages)
    assert received == Counter(c.email for c in contacts)
    assert len(set(handler.peers)) > 1
    sent = Delivery.objects.filter(campaign=campaign)
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    assert {d.message_id for d in sent} == {m["Message-ID"] for m in handler.messages}


def test_two_campaigns_sent_together_never_pass_a_cap_of_one_a_day(products, small_batches):
    contacts = [ContactFactory(confirmed=True, preferences=[products]) for _ in range(CONTACTS)]
    for contact in contacts:
        ContactChannelFactory(
            contact=contact, frequency_count=1, frequency_period=FrequencyPeriod.DAY
        )
    first, second = (CampaignFactory(preferences=[products]) for _ in range(2))
    planning.begin(first)
    planning.begin(second)
    runs = iter([first, second, first, second])

    def sender():
        campaign = next(runs)
        return lambda: dispatch.run(campaign.pk)

    at_once(sender, 4)

    assert Counter(m.to[0] for m in mail.outbox) == Counter(c.email for c in contacts)
    held = Delivery.objects.exclude(status=DeliveryStatus.SENT)
    assert held.count() == CONTACTS
    assert set(held.values_list("status", "reason")) == {
        (DeliveryStatus.DEFERRED, SkipReason.FREQUENCY_CAP)
    }
