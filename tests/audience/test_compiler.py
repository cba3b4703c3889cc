"""The audience rules of ``audience.compiler``, each checked on a small world worked out by
hand; ``test_compiler_property.py`` checks them on drawn worlds."""

import datetime

import pytest

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    DeliveryFactory,
    PreferenceFactory,
)
from tests.testapp.models import SentMessage
from wagtail_preferences.audience import compiler
from wagtail_preferences.models import (
    Contact,
    ContactStatus,
    DeliveryStatus,
    FrequencyPeriod,
    Preference,
)

pytestmark = pytest.mark.django_db


def audience(condition):
    return set(Contact.objects.filter(condition).values_list("pk", flat=True))


class TestRules:
    """A small world whose audiences are worked out by hand:

    - ann holds products; opted out of promotions; email disabled
    - bob holds trainings; opted in to promotions; email enabled explicitly, SMS disabled
    - cat holds products and trainings; opted out of news (not promotions)
    - dan holds nothing and has no rows at all
    """

    @pytest.fixture
    def world(self):
        products, trainings, events = (
            PreferenceFactory(name=name) for name in ("Products", "Trainings", "Events")
        )
        promotions, news = CategoryFactory(name="Promotions"), CategoryFactory(name="News")
        ann = ContactFactory(preferences=[products])
        bob = ContactFactory(preferences=[trainings])
        cat = ContactFactory(preferences=[products, trainings])
        dan = ContactFactory()
        CategoryChoiceFactory(contact=ann, category=promotions, subscribed=False)
        CategoryChoiceFactory(contact=bob, category=promotions, subscribed=True)
        CategoryChoiceFactory(contact=cat, category=news, subscribed=False)
        ContactChannelFactory(contact=ann, channel="email", disabled=True)
        ContactChannelFactory(contact=bob, channel="email", enabled=True)
        ContactChannelFactory(contact=bob, channel="sms", disabled=True)
        return {
            "products": products,
            "trainings": trainings,
            "events": events,
            "promotions": promotions,
            "news": news,
            "ann": ann.pk,
            "bob": bob.pk,
            "cat": cat.pk,
            "dan": dan.pk,
        }

    def test_holds_any_a_list_of_instances(self, world):
        w = world
        assert audience(compiler.holds_any([w["products"]])) == {w["ann"], w["cat"]}
        assert audience(compiler.holds_any([w["trainings"]])) == {w["bob"], w["cat"]}
        assert audience(compiler.holds_any([w["events"]])) == set()

    def test_holds_any_any_of_several_lists_each_contact_once(self, world):
        w = world
        holders = Contact.objects.filter(compiler.holds_any([w["products"], w["trainings"]]))

        assert sorted(holders.values_list("pk", flat=True)) == sorted(
            [w["ann"], w["bob"], w["cat"]]
        )

    def test_holds_any_ids_and_querysets(self, world):
        w = world
        assert audience(compiler.holds_any([w["trainings"].pk])) == {w["bob"], w["cat"]}
        assert audience(compiler.holds_any(Preference.objects.filter(name="Products"))) == {
            w["ann"],
            w["cat"],
        }

    def test_holds_any_nothing(self, world):
        assert audience(compiler.holds_any([])) == set()

    def test_opted_out_of(self, world):
        w = world
        assert audience(compiler.opted_out_of(w["promotions"])) == {w["ann"]}
        assert audience(compiler.opted_out_of(w["news"])) == {w["cat"]}
        assert audience(compiler.opted_out_of(w["news"].pk)) == {w["cat"]}

    def test_subscribed_to_includes_contacts_without_a_choice(self, world):
        w = world
        assert audience(compiler.subscribed_to(w["promotions"])) == {w["bob"], w["cat"], w["dan"]}
        assert audience(compiler.subscribed_to(w["news"])) == {w["ann"], w["bob"], w["dan"]}

    def test_channel_enabled_includes_contacts_without_a_row(self, world):
        w = world
        assert audience(compiler.channel_enabled("email")) == {
            w["bob"],
            w["cat"],
            w["dan"],
        }
        assert audience(compiler.channel_enabled("sms")) == {
            w["ann"],
            w["cat"],
            w["dan"],
        }

    def test_channel_disabled(self, world):
        w = world
        assert audience(compiler.channel_disabled("email")) == {w["ann"]}
        assert audience(compiler.channel_disabled("sms")) == {w["bob"]}
        assert audience(compiler.channel_disabled("push")) == set()

    def test_rules_combine_into_one_query(self, world, django_assert_num_queries):
        w = world
        contacts = Contact.objects.filter(
            compiler.holds_any([w["products"], w["trainings"]])
            & compiler.subscribed_to(w["promotions"])
            & compiler.channel_enabled("sms")
        )

        with django_assert_num_queries(1):
            assert {c.pk for c in contacts} == {w["cat"]}


NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)


class TestReachableOn:
    @pytest.fixture(autouse=True)
    def frozen(self, time_machine):
        time_machine.move_to(NOW, tick=False)

    def sent(self, contact, channel="email", ago=datetime.timedelta(hours=1), times=1):
        SentMessage.objects.bulk_create(
            SentMessage(contact=contact, channel=channel, sent_at=NOW - ago) for _ in range(times)
        )

    def test_only_confirmed_contacts(self):
        confirmed = ContactFactory(status=ContactStatus.CONFIRMED)
        for status in (ContactStatus.PENDING, ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED):
            ContactFactory(status=status)

        assert audience(compiler.reachable_on("email")) == {confirmed.pk}

    def test_not_with_the_channel_turned_off(self):
        off = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(contact=off, channel="email", disabled=True)
        on_sms_only_off = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(contact=on_sms_only_off, channel="sms", disabled=True)

        assert audience(compiler.reachable_on("email")) == {on_sms_only_off.pk}
        assert audience(compiler.reachable_on("sms")) == {off.pk}

    def test_not_during_a_pause_including_its_first_and_last_day(self):
        today = NOW.date()
        day = datetime.timedelta(days=1)
        windows = {
            "ends today": (today - day, today),
            "starts today": (today, today + day),
            "open start": (None, today),
            "open end": (today, None),
            "ended": (today - 2 * day, today - day),
            "to come": (today + day, None),
        }
        contacts = {}
        for name, (start, end) in windows.items():
            contacts[name] = ContactFactory(status=ContactStatus.CONFIRMED)
            ContactChannelFactory(
                contact=contacts[name], channel="email", pause_from=start, pause_to=end
            )

        assert audience(compiler.reachable_on("email")) == {
            contacts["ended"].pk,
            contacts["to come"].pk,
        }
        later = NOW + 3 * day
        assert contacts["starts today"].pk in audience(compiler.reachable_on("email", later))

    def test_the_frequency_cap_counts_a_rolling_window_per_channel(self):
        sent = SentMessage.objects.all()
        two_a_day = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(
            contact=two_a_day, frequency_count=2, frequency_period=FrequencyPeriod.DAY
        )
        weekly = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(contact=weekly, weekly=True)
        uncapped = ContactFactory(status=ContactStatus.CONFIRMED)
        self.sent(two_a_day, times=2)
        self.sent(weekly, ago=datetime.timedelta(days=5))
        self.sent(uncapped, times=5)

        assert audience(compiler.reachable_on("email", sent=sent)) == {uncapped.pk}
        # Messages on another channel, or older than the window, do not count.
        assert audience(compiler.reachable_on("sms", sent=sent)) == {
            two_a_day.pk,
            weekly.pk,
            uncapped.pk,
        }
        tomorrow = NOW + datetime.timedelta(days=1, minutes=1)
        assert audience(compiler.reachable_on("email", tomorrow, sent=sent)) == {
            two_a_day.pk,
            uncapped.pk,
        }

    def test_under_the_cap_is_reachable(self):
        three_a_month = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(
            contact=three_a_month, frequency_count=3, frequency_period=FrequencyPeriod.MONTH
        )
        self.sent(three_a_month, ago=datetime.timedelta(days=29), times=2)

        reachable = compiler.reachable_on("email", sent=SentMessage.objects.all())

        assert audience(reachable) == {three_a_month.pk}

    def test_by_default_caps_count_the_deliveries_holding_a_slot(self):
        capped = ContactFactory(status=ContactStatus.CONFIRMED)
        ContactChannelFactory(contact=capped, weekly=True)
        hour_ago = NOW - datetime.timedelta(hours=1)
        for status, marketing in [
            (DeliveryStatus.FAILED, True),
            (DeliveryStatus.SKIPPED, True),
            (DeliveryStatus.SENT, False),  # transactional
        ]:
            DeliveryFactory(contact=capped, status=status, marketing=marketing, sent_at=hour_ago)

        assert audience(compiler.reachable_on("email", NOW)) == {capped.pk}
        DeliveryFactory(contact=capped, status=DeliveryStatus.CLAIMED, sent_at=hour_ago)
        assert audience(compiler.reachable_on("email", NOW)) == set()

    def test_one_query_for_any_number_of_contacts(self, django_assert_num_queries):
        for _ in range(5):
            contact = ContactFactory(status=ContactStatus.CONFIRMED)
            ContactChannelFactory(contact=contact, weekly=True, paused=True)
            self.sent(contact)

        with django_assert_num_queries(1):
            list(
                Contact.objects.filter(
                    compiler.reachable_on("email", sent=SentMessage.objects.all())
                )
            )
