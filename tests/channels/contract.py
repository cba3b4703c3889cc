"""The contract every channel keeps, as a mixin of test methods (as Django's session backend
tests are written).

A concrete test class mixes ``ChannelContract`` in and provides these fixtures:

- ``channel``: the channel under test, its backend set up;
- ``sent_addresses``: a function returning the addresses the backend sent to so far, in order;
- ``contact_without_address``: a contact with no address on the channel;
- ``failing_address``: an address the backend fails to send to (set up by the fixture).

It may override ``make_contact`` (a function making a new confirmed contact with an address
on the channel) and ``failure_status`` (how ``failing_address`` fails). A site's own channel
can reuse the mixin the same way.
"""

import pytest

from tests.factories import ContactFactory
from wagtail_preferences.channels.base import OutgoingMessage, SendStatus
from wagtail_preferences.models import ContactChannel, ContactStatus


class ChannelContract:
    failure_status = SendStatus.PERMANENT_FAILURE

    @pytest.fixture
    def make_contact(self, db):
        return lambda: ContactFactory(confirmed=True)

    @pytest.fixture
    def contact(self, make_contact):
        return make_contact()

    @pytest.fixture
    def addresses(self, channel, make_contact):
        """``addresses(count)``: the addresses of ``count`` new contacts."""
        return lambda count: [channel.address_for(make_contact()) for _number in range(count)]

    @staticmethod
    def message(address, contact_id=None, number=1):
        return OutgoingMessage(
            contact_id=contact_id,
            address=address,
            subject=f"Message {number}",
            text=f"Text of message {number}",
            html=f"<p>HTML of message {number}</p>",
            headers={"X-Number": str(number)},
            message_id=f"delivery-{number}",
            metadata={"delivery": str(number)},
        )

    def test_the_address_is_the_contacts_on_the_channel(
        self, channel, contact, contact_without_address
    ):
        address = channel.address_for(contact)
        assert address and isinstance(address, str)
        if channel.address_field:
            assert address == getattr(contact, channel.address_field)
        assert channel.address_for(contact_without_address) == ""

    def test_a_contact_with_an_address_can_be_reached(self, channel, contact):
        assert channel.can_reach(contact)

    def test_a_contact_without_an_address_cannot_be_reached(self, channel, contact_without_address):
        assert not channel.can_reach(contact_without_address)

    def test_a_contact_who_turned_the_channel_off_cannot_be_reached(self, channel, contact):
        ContactChannel.objects.create(contact=contact, channel=channel.key, enabled=False)
        assert not channel.can_reach(contact)

    def test_turning_another_channel_off_changes_nothing(self, channel, contact):
        ContactChannel.objects.create(contact=contact, channel=f"not-{channel.key}", enabled=False)
        ContactChannel.objects.create(contact=contact, channel=channel.key, enabled=True)
        assert channel.can_reach(contact)

    def test_a_blocked_contact_cannot_be_reached(self, channel, contact):
        contact.status = ContactStatus.BLOCKED
        assert not channel.can_reach(contact)

    def test_an_empty_batch_sends_nothing(self, channel, sent_addresses):
        assert channel.send_batch([]) == []
        assert sent_addresses() == []

    def test_a_batch_gets_one_result_per_message_in_order(self, channel, sent_addresses, addresses):
        to = addresses(3)
        results = channel.send_batch(
            [self.message(address, number=n) for n, address in enumerate(to)]
        )
        assert [result.status for result in results] == [SendStatus.SENT] * 3
        assert all(result.is_sent and not result.error for result in results)
        provider_ids = [result.provider_id for result in results]
        assert all(provider_ids) and len(set(provider_ids)) == 3
        assert sent_addresses() == to

    def test_a_failing_recipient_is_reported_and_the_others_are_sent(
        self, channel, sent_addresses, failing_address, addresses
    ):
        first, last = addresses(2)
        results = channel.send_batch(
            [self.message(first), self.message(failing_address, number=2), self.message(last)]
        )
        assert len(results) == 3
        assert results[0].is_sent and results[2].is_sent
        assert results[1].status == self.failure_status
        assert results[1].error and not results[1].provider_id
        assert sent_addresses() == [first, last]

    def test_a_session_sends_batch_after_batch_even_after_a_failure(
        self, channel, sent_addresses, failing_address, addresses
    ):
        first, second, third = addresses(3)
        with channel.session() as send_batch:
            results = send_batch([self.message(first)])
            results += send_batch([self.message(failing_address, number=2)])
            results += send_batch([self.message(second), self.message(third)])
        assert [result.is_sent for result in results] == [True, False, True, True]
        assert sent_addresses() == [first, second, third]

    def test_a_batch_of_failures_raises_nothing(self, channel, sent_addresses, failing_address):
        results = channel.send_batch([self.message(failing_address)] * 2)
        assert [result.status for result in results] == [self.failure_status] * 2
        assert sent_addresses() == []
