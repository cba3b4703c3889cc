"""The eligibility policy: one contact for every reason, counted, planned and re-checked."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    MessageFactory,
    SegmentFactory,
)
from wagtail_preferences.messaging import eligibility, planning
from wagtail_preferences.models import (
    Delivery,
    DeliveryStatus,
    MatchRule,
    SegmentOptOut,
    SkipReason,
    Suppression,
    SuppressionReason,
    WhenHeld,
)
from wagtail_preferences.models.paths import ChangePath

pytestmark = pytest.mark.django_db


@pytest.fixture
def category(db):
    return CategoryFactory(name="Offers")


@pytest.fixture
def campaign(products, category):
    segment = SegmentFactory(name="Regulars")
    message = MessageFactory(category=category)
    return CampaignFactory(
        message=message, preferences=[products], segments=[segment], match=MatchRule.ANY
    )


def holder(products, **kwargs):
    return ContactFactory(preferences=[products], **{"confirmed": True, **kwargs})


def sent_before(contact, campaign_factory=CampaignFactory, hours=1):
    """A message sent to ``contact`` by another campaign ``hours`` ago."""
    return Delivery.objects.create(
        campaign=campaign_factory(),
        contact=contact,
        channel="email",
        status=DeliveryStatus.SENT,
        sent_at=timezone.now() - datetime.timedelta(hours=hours),
    )


@pytest.fixture
def everyone(products, category, campaign):
    """A contact for every reason a marketing email is not sent, and one who gets it."""
    contacts = {
        "": holder(products),
        SkipReason.PENDING: holder(products, confirmed=False),
        SkipReason.UNSUBSCRIBED: holder(products, unsubscribed=True),
        SkipReason.BLOCKED: holder(products, blocked=True),
        SkipReason.SUPPRESSED: holder(products),
        SkipReason.CHANNEL_DISABLED: holder(products),
        SkipReason.CATEGORY_OPT_OUT: holder(products),
        SkipReason.SEGMENT_OPT_OUT: holder(products),
        SkipReason.PAUSED: holder(products),
        SkipReason.FREQUENCY_CAP: holder(products),
    }
    Suppression.objects.create(
        channel="email",
        address=contacts[SkipReason.SUPPRESSED].email,
        reason=SuppressionReason.HARD_BOUNCE,
    )
    ContactChannelFactory(contact=contacts[SkipReason.CHANNEL_DISABLED], disabled=True)
    CategoryChoiceFactory(contact=contacts[SkipReason.CATEGORY_OPT_OUT], category=category)
    SegmentOptOut.objects.create(
        contact=contacts[SkipReason.SEGMENT_OPT_OUT],
        segment=campaign.segments.get(),
        source=ChangePath.FORM,
    )
    ContactChannelFactory(contact=contacts[SkipReason.PAUSED], paused=True)
    capped = contacts[SkipReason.FREQUENCY_CAP]
    ContactChannelFactory(contact=capped, weekly=True)
    sent_before(capped)
    return contacts


def test_the_breakdown_counts_each_contact_under_the_first_rule_it_fails(campaign, everyone):
    result = planning.breakdown(campaign)

    [email] = result.channels
    assert result.audience == len(everyone)
    assert email.sending == 1
    assert email.waiting == {SkipReason.PAUSED: 1, SkipReason.FREQUENCY_CAP: 1}
    assert set(email.skipped) == set(everyone) - {"", SkipReason.PAUSED, SkipReason.FREQUENCY_CAP}
    assert all(n == 1 for n in email.skipped.values())
    assert result.receiving == 3
    assert result.not_receiving == len(everyone) - 3


def test_a_campaign_that_skips_held_contacts_counts_them_as_skipped(campaign, everyone):
    campaign.when_paused = campaign.when_capped = WhenHeld.SKIP

    [email] = planning.breakdown(campaign).channels

    assert email.waiting == {}
    assert email.skipped[SkipReason.PAUSED] == email.skipped[SkipReason.FREQUENCY_CAP] == 1


def test_planning_freezes_the_audience_with_each_reason(campaign, everyone):
    planned = planning.plan(campaign, campaign.message)

    rows = {d.contact_id: (d.status, d.reason) for d in Delivery.objects.filter(campaign=campaign)}
    assert planned == len(everyone) == len(rows)
    for reason, contact in everyone.items():
        if reason == "":
            assert rows[contact.pk] == (DeliveryStatus.QUEUED, "")
        elif reason in eligibility.HELD:
            assert rows[contact.pk] == (DeliveryStatus.DEFERRED, reason)
        else:
            assert rows[contact.pk] == (DeliveryStatus.SKIPPED, reason)


def test_planning_twice_adds_nothing(campaign, everyone):
    planning.plan(campaign, campaign.message)

    assert planning.plan(campaign, campaign.message) == 0
    assert Delivery.objects.filter(campaign=campaign).count() == len(everyone)


def test_a_transactional_message_skips_marketing_rules_but_not_blocked_addresses(
    campaign, everyone
):
    campaign.message.transactional = True

    [email] = planning.breakdown(campaign).channels

    assert set(email.skipped) == {SkipReason.BLOCKED, SkipReason.SUPPRESSED}
    assert email.sending == len(everyone) - 2


def test_the_eligible_condition_agrees_with_the_breakdown(campaign, everyone):
    sending = planning.sending_of(campaign)
    audience = planning.audience(campaign)
    from wagtail_preferences.models import Contact

    eligible = Contact.objects.filter(audience).filter(eligibility.eligible("email", sending))

    assert list(eligible) == [everyone[""]]


class TestChannels:
    @pytest.fixture
    def campaign(self, products):
        return CampaignFactory(
            message=MessageFactory(sms_text="Fresh bread today!"), preferences=[products]
        )

    def channels_of(self, campaign):
        rows = {}
        planning.plan(campaign, campaign.message)
        for delivery in Delivery.objects.filter(campaign=campaign):
            rows.setdefault(delivery.contact_id, {})[delivery.channel] = delivery.reason
        return rows

    def test_a_message_with_an_sms_text_goes_out_on_both_channels_in_order(self, campaign):
        assert planning.sending_of(campaign).channels == ("email", "sms")

    def test_only_the_preferred_channel_sends(self, campaign, products):
        email_first = holder(products)
        sms_first = holder(products)
        ContactChannelFactory(contact=sms_first, channel="sms", preferred=True)

        rows = self.channels_of(campaign)

        assert rows[email_first.pk] == {"email": "", "sms": SkipReason.OTHER_CHANNEL}
        assert rows[sms_first.pk] == {"email": SkipReason.OTHER_CHANNEL, "sms": ""}

    def test_a_preferred_channel_that_cannot_reach_falls_back_to_the_next(self, campaign, products):
        no_phone = holder(products, phone="")
        ContactChannelFactory(contact=no_phone, channel="sms", preferred=True)
        sms_off = holder(products)
        ContactChannelFactory(contact=sms_off, channel="email", disabled=True)

        rows = self.channels_of(campaign)

        assert rows[no_phone.pk] == {"email": "", "sms": SkipReason.NO_ADDRESS}
        assert rows[sms_off.pk] == {"email": SkipReason.CHANNEL_DISABLED, "sms": ""}

    def test_a_pause_does_not_move_the_message_to_another_channel(self, campaign, products):
        paused = holder(products)
        ContactChannelFactory(contact=paused, channel="email", paused=True)

        rows = self.channels_of(campaign)

        assert rows[paused.pk] == {"email": SkipReason.PAUSED, "sms": SkipReason.OTHER_CHANNEL}

    def test_the_campaign_may_send_on_fewer_channels(self, campaign):
        campaign.channels = ["sms"]

        assert planning.sending_of(campaign).channels == ("sms",)


class TestAudience:
    def test_without_any_part_nobody(self, products):
        holder(products)
        campaign = CampaignFactory()

        assert planning.breakdown(campaign).audience == 0

    def test_all_parts_must_match_by_default(self, products, events):
        both = holder(products)
        holder(products)
        segment = SegmentFactory()
        from wagtail_preferences.models import SegmentMember

        SegmentMember.objects.create(segment=segment, contact=both)
        campaign = CampaignFactory(preferences=[products], segments=[segment])

        assert planning.breakdown(campaign).audience == 1

    def test_all_preferences_and_exclusions(self, products, events, trainings):
        both = holder(products)
        both.preferences.add(events, through_defaults={"source": ChangePath.ADMIN})
        excluded = holder(products)
        excluded.preferences.add(events, trainings, through_defaults={"source": "admin"})
        holder(products)
        campaign = CampaignFactory(preferences=[products, events], preference_rule="all")
        campaign.exclude_preferences.set([trainings])

        planning.plan(campaign, campaign.message)

        assert list(Delivery.objects.values_list("contact_id", flat=True)) == [both.pk]
