import datetime
import math

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
    UserFactory,
)
from wagtail_preferences import services, signals
from wagtail_preferences.db.batches import BATCH_SIZE, COPY_AFTER, INSERT_CHUNK
from wagtail_preferences.exceptions import InvalidChange, UnknownChannel
from wagtail_preferences.models import (
    Category,
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactChannel,
    ContactPreference,
    ContactStatus,
    Preference,
)
from wagtail_preferences.services import ChannelSettings, Origin

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2025, 6, 2)
FRIDAY = datetime.date(2025, 6, 6)


@pytest.fixture
def editor():
    return UserFactory(username="editor", staff=True)


@pytest.fixture
def form_origin(editor):
    """An origin with every field set, to check that each one reaches the events."""
    return Origin(
        path=ChangePath.FORM,
        user=editor,
        reference="newsletter-signup",
        ip_address="203.0.113.9",
        user_agent="Mozilla/5.0 (tests)",
        wording="Yes, send me news about your products.",
    )


def assert_stamped(events, origin):
    assert events, "expected consent events"
    for event in events:
        assert event.path == origin.path
        assert event.reference == origin.reference
        assert event.actor == origin.user
        assert event.actor_label == (origin.user.get_username() if origin.user else "")
        assert event.ip_address == origin.ip_address
        assert event.user_agent == origin.user_agent
        assert event.wording == origin.wording


def logged(**filters):
    """(contact_id, subject_id, subject_label, field, old_value, new_value) of matching events."""
    return {
        (e.contact_id, e.subject_id, e.subject_label, e.field, e.old_value, e.new_value)
        for e in ConsentEvent.objects.filter(**filters)
    }


def held_pairs():
    return set(ContactPreference.objects.values_list("contact_id", "preference_id"))


def insert_statements(model, rows, *, ignore_conflicts=False):
    """How many statements ``db.batches.insert_rows`` makes for ``rows`` rows.

    One per ``INSERT_CHUNK`` rows: no model instance nor statement per row. PostgreSQL takes
    many rows by COPY, which Django does not count; what is counted is its savepoint and, to
    ignore conflicts, the temporary table it goes through.
    """
    if connection.vendor == "postgresql" and rows >= COPY_AFTER:
        return 4 if ignore_conflicts else 2
    return math.ceil(rows / INSERT_CHUNK)


def bulk_create_statements(model, rows):
    """How many INSERT statements ``bulk_create`` of ``rows`` rows needs on this database.

    PostgreSQL takes a whole batch (BATCH_SIZE rows) in one statement; SQLite caps the number
    of parameters per statement, so it needs several.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    per_statement = min(BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * rows))
    return math.ceil(rows / per_statement)


def make_contacts(count, **kwargs):
    return Contact.objects.bulk_create(ContactFactory.build_batch(count, **kwargs))


def as_kind(objects, kind):
    """The same objects given the ways callers give them: queryset, instances or ids."""
    model = type(objects[0])
    if kind == "queryset":
        return model.objects.filter(pk__in=[o.pk for o in objects])
    if kind == "instances":
        return list(objects)
    return [o.pk for o in objects]


@pytest.fixture
def failing_receiver():
    """Connect a receiver that raises to a signal, as a broken downstream handler would."""
    connected = []

    def connect(signal):
        def receiver(**kwargs):
            raise RuntimeError("receiver failed")

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)


class TestOrigin:
    def test_from_request_with_a_signed_in_user(self, editor):
        request = RequestFactory().post(
            "/", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Firefox/140"
        )
        request.user = editor

        origin = Origin.from_request(request, ChangePath.FORM, reference="form 12", wording="OK")

        assert origin == Origin(
            path=ChangePath.FORM,
            user=editor,
            reference="form 12",
            ip_address="198.51.100.4",
            user_agent="Firefox/140",
            wording="OK",
        )

    def test_from_request_anonymous_without_address(self):
        from django.contrib.auth.models import AnonymousUser

        request = RequestFactory().get("/", REMOTE_ADDR="", HTTP_USER_AGENT="x" * 5000)
        request.user = AnonymousUser()

        origin = Origin.from_request(request)

        assert origin.path == ChangePath.ADMIN
        assert origin.user is None
        assert origin.ip_address is None
        assert origin.user_agent == "x" * 1000

    def test_event_carries_the_origin(self, form_origin):
        contact = ContactFactory()

        event = form_origin.event(contact.pk, ConsentSubject.STATUS, field="status")

        assert event.pk is None
        assert (event.contact_id, event.subject, event.field) == (
            contact.pk,
            ConsentSubject.STATUS,
            "status",
        )
        assert_stamped([event], form_origin)

    def test_lazy_wording_is_kept_as_the_text_shown(self):
        contact = ContactFactory()
        with translation.override("fr"):
            origin = Origin(path=ChangePath.FORM, wording=gettext_lazy("Yes"))

        services.set_status([contact], ContactStatus.UNSUBSCRIBED, origin)

        assert ConsentEvent.objects.get(contact=contact).wording == "Oui"

    def test_event_without_a_user_has_no_actor_label(self, origin):
        event = origin.event(1, ConsentSubject.STATUS)

        assert event.actor is None
        assert event.actor_label == ""


class TestAddPreferences:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("preferences_kind", ["queryset", "instances", "ids"])
    def test_every_contact_gets_every_preference(
        self, contacts_kind, preferences_kind, form_origin, sent_signals
    ):
        contacts = ContactFactory.create_batch(3)
        preferences = PreferenceFactory.create_batch(2)
        ContactFactory()  # not asked for: must stay untouched
        expected = {(c.pk, p.pk) for c in contacts for p in preferences}

        added = services.add_preferences(
            as_kind(contacts, contacts_kind), as_kind(preferences, preferences_kind), form_origin
        )

        assert added == expected
        assert held_pairs() == expected
        assert logged() == {
            (c.pk, p.pk, p.name, "held", False, True) for c in contacts for p in preferences
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {
            ConsentSubject.PREFERENCE
        }
        assert sent_signals == [
            (
                "preferences_added",
                {
                    "sender": Preference,
                    "contact_ids": frozenset(c.pk for c in contacts),
                    "pairs": frozenset(expected),
                    "origin": form_origin,
                },
            )
        ]

    def test_a_single_contact_and_a_single_preference(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()

        assert services.add_preferences(contact, preference, origin) == {
            (contact.pk, preference.pk)
        }
        assert held_pairs() == {(contact.pk, preference.pk)}
        assert [name for name, _ in sent_signals] == ["preferences_added"]

    def test_holdings_record_the_path(self, form_origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        services.add_preferences([contact], [preference], form_origin)

        assert ContactPreference.objects.get().source == ChangePath.FORM

    def test_adding_twice_adds_once_and_logs_once(self, origin, sent_signals):
        contacts = ContactFactory.create_batch(2)
        preference = PreferenceFactory()
        services.add_preferences(contacts, [preference], origin)

        again = services.add_preferences(contacts, [preference], origin)

        assert again == frozenset()
        assert ContactPreference.objects.count() == 2
        assert ConsentEvent.objects.count() == 2
        assert len(sent_signals) == 1

    def test_only_missing_holdings_are_added_and_logged(self, origin, sent_signals):
        products, events = PreferenceFactory(name="Products"), PreferenceFactory(name="Events")
        ann = ContactFactory(preferences=[products])
        bob = ContactFactory(preferences=[products, events])
        cat = ContactFactory()

        added = services.add_preferences([ann, bob, cat], [products, events], origin)

        assert added == {(ann.pk, events.pk), (cat.pk, products.pk), (cat.pk, events.pk)}
        assert logged() == {
            (ann.pk, events.pk, "Events", "held", False, True),
            (cat.pk, products.pk, "Products", "held", False, True),
            (cat.pk, events.pk, "Events", "held", False, True),
        }
        (_, kwargs), *_ = sent_signals
        assert kwargs["contact_ids"] == {ann.pk, cat.pk}
        assert kwargs["pairs"] == added

    def test_a_contact_given_twice_is_handled_once(self, origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        added = services.add_preferences([contact, contact.pk], [preference], origin)

        assert added == {(contact.pk, preference.pk)}
        assert ConsentEvent.objects.count() == 1

    @pytest.mark.parametrize("empty", ["contacts", "preferences"])
    def test_nothing_to_add(self, empty, origin, sent_signals):
        contacts = [] if empty == "contacts" else [ContactFactory()]
        preferences = [] if empty == "preferences" else [PreferenceFactory()]

        assert services.add_preferences(contacts, preferences, origin) == frozenset()
        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_preference_ids_that_do_not_exist_are_ignored(self, origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        added = services.add_preferences([contact], [preference.pk, preference.pk + 1000], origin)

        assert added == {(contact.pk, preference.pk)}

    def test_unknown_contact_ids_raise_and_change_nothing(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()
        missing = contact.pk + 1000

        with pytest.raises(InvalidChange, match=str(missing)):
            services.add_preferences([contact.pk, missing], [preference], origin)

        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_unsaved_contact_raises(self, origin):
        with pytest.raises(InvalidChange):
            services.add_preferences(
                [Contact(email="new@example.com")], [PreferenceFactory()], origin
            )
        assert not ContactPreference.objects.exists()

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.preferences_added)
        contacts = ContactFactory.create_batch(2)

        with pytest.raises(RuntimeError):
            services.add_preferences(contacts, [PreferenceFactory()], origin)

        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()

    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("size", [5, 500])
    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, size, contacts_kind, origin, django_assert_num_queries
    ):
        contacts = make_contacts(size)
        preferences = PreferenceFactory.create_batch(3)
        given = as_kind(contacts, contacts_kind)
        rows = size * 3
        # SAVEPOINT, the contact ids (a queryset) or a check that they exist, current
        # holdings, RELEASE; then the bulk inserts. Preferences given as instances are not
        # read again.
        expected = (
            4
            + insert_statements(ContactPreference, rows, ignore_conflicts=True)
            + insert_statements(ConsentEvent, rows)
        )

        with django_assert_num_queries(expected):
            added = services.add_preferences(given, preferences, origin)

        assert len(added) == rows
        assert ConsentEvent.objects.count() == rows
        if connection.vendor == "postgresql" and rows < COPY_AFTER:
            assert expected == 6


class TestRemovePreferences:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("preferences_kind", ["queryset", "instances", "ids"])
    def test_holdings_are_removed_and_logged(
        self, contacts_kind, preferences_kind, form_origin, sent_signals
    ):
        products, events, news = (
            PreferenceFactory(name=name) for name in ("Products", "Events", "News")
        )
        ann = ContactFactory(preferences=[products, news])
        bob = ContactFactory(preferences=[events, news])
        cat = ContactFactory(preferences=[news])
        dan = ContactFactory(preferences=[products])  # not asked for

        removed = services.remove_preferences(
            as_kind([ann, bob, cat], contacts_kind),
            as_kind([products, events], preferences_kind),
            form_origin,
        )

        assert removed == {(ann.pk, products.pk), (bob.pk, events.pk)}
        assert held_pairs() == {
            (ann.pk, news.pk),
            (bob.pk, news.pk),
            (cat.pk, news.pk),
            (dan.pk, products.pk),
        }
        assert logged() == {
            (ann.pk, products.pk, "Products", "held", True, False),
            (bob.pk, events.pk, "Events", "held", True, False),
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "preferences_removed",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({ann.pk, bob.pk}),
                    "pairs": frozenset(removed),
                    "origin": form_origin,
                },
            )
        ]

    def test_removing_what_is_not_held_does_nothing(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()

        assert services.remove_preferences([contact], [preference], origin) == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_removing_twice_logs_once(self, origin, sent_signals):
        preference = PreferenceFactory()
        contact = ContactFactory(preferences=[preference])

        services.remove_preferences([contact], [preference], origin)
        services.remove_preferences([contact], [preference], origin)

        assert ConsentEvent.objects.count() == 1
        assert len(sent_signals) == 1

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.preferences_removed)
        preference = PreferenceFactory()
        contact = ContactFactory(preferences=[preference])

        with pytest.raises(RuntimeError):
            services.remove_preferences([contact], [preference], origin)

        assert held_pairs() == {(contact.pk, preference.pk)}
        assert not ConsentEvent.objects.exists()

    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, origin, django_assert_num_queries
    ):
        preferences = PreferenceFactory.create_batch(3)
        contacts = make_contacts(500)
        services.add_preferences(Contact.objects.all(), preferences, origin)
        ConsentEvent.objects.all().delete()

        # SAVEPOINT, contact ids, holdings, DELETE, RELEASE (instances: no preferences query)
        with django_assert_num_queries(5 + insert_statements(ConsentEvent, 1500)):
            removed = services.remove_preferences(Contact.objects.all(), preferences, origin)

        assert len(removed) == 1500
        assert not ContactPreference.objects.filter(contact__in=contacts).exists()


class TestSetPreferences:
    @pytest.fixture
    def interests(self):
        return {
            name: PreferenceFactory(name=name)
            for name in ("Products", "Trainings", "Events", "Newsletter")
        }

    def test_the_contact_ends_up_holding_exactly_the_chosen(
        self, interests, form_origin, sent_signals
    ):
        products, trainings, events = (interests[n] for n in ("Products", "Trainings", "Events"))
        contact = ContactFactory(preferences=[products, trainings])

        added, removed = services.set_preferences(contact, [trainings, events], form_origin)

        assert (added, removed) == (
            frozenset({(contact.pk, events.pk)}),
            frozenset({(contact.pk, products.pk)}),
        )
        assert set(contact.preferences.all()) == {trainings, events}
        assert logged() == {
            (contact.pk, products.pk, "Products", "held", True, False),
            (contact.pk, events.pk, "Events", "held", False, True),
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "preferences_removed",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({contact.pk}),
                    "pairs": frozenset({(contact.pk, products.pk)}),
                    "origin": form_origin,
                },
            ),
            (
                "preferences_added",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({contact.pk}),
                    "pairs": frozenset({(contact.pk, events.pk)}),
                    "origin": form_origin,
                },
            ),
        ]

    def test_preferences_that_were_not_offered_are_left_alone(self, interests, origin):
        products, trainings, events, newsletter = interests.values()
        # Products was not offered: neither choosing nor not choosing it changes it.
        contact = ContactFactory(preferences=[products, trainings])

        services.set_preferences(contact, [events, newsletter], origin, offered=[trainings, events])

        assert set(contact.preferences.all()) == {products, events}
        assert {(e.subject_label, e.new_value) for e in ConsentEvent.objects.all()} == {
            ("Trainings", False),
            ("Events", True),
        }

    def test_offered_as_ids_and_chosen_as_a_queryset(self, interests, origin):
        products, trainings, events, _ = interests.values()
        contact = ContactFactory(preferences=[products])

        services.set_preferences(
            contact,
            Preference.objects.filter(name__in=["Trainings", "Events"]),
            origin,
            offered=[products.pk, trainings.pk, events.pk],
        )

        assert set(contact.preferences.all()) == {trainings, events}

    def test_no_change_no_event_no_signal(self, interests, origin, sent_signals):
        products = interests["Products"]
        contact = ContactFactory(preferences=[products])

        services.set_preferences(contact, [products], origin)

        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_choosing_nothing_removes_every_offered_preference(self, interests, origin):
        contact = ContactFactory(preferences=list(interests.values()))

        services.set_preferences(contact, [], origin)

        assert not contact.preferences.exists()
        assert ConsentEvent.objects.count() == 4


class TestSetCategoryChoices:
    @pytest.fixture
    def promotions(self):
        return CategoryFactory(name="Promotions")

    @pytest.mark.parametrize(
        ("before", "wanted", "row_after"),
        [
            (None, True, True),
            (None, False, False),
            (True, False, False),
            (False, True, True),
            (True, None, None),
            (False, None, None),
        ],
    )
    def test_each_transition_is_stored_and_logged(
        self, before, wanted, row_after, promotions, form_origin, sent_signals
    ):
        contact = ContactFactory()
        if before is not None:
            CategoryChoiceFactory(contact=contact, category=promotions, subscribed=before)

        changes = services.set_category_choices([contact], {promotions: wanted}, form_origin)

        assert changes == {(contact.pk, promotions.pk, wanted)}
        assert list(CategoryChoice.objects.values_list("subscribed", flat=True)) == (
            [] if row_after is None else [row_after]
        )
        assert logged() == {(contact.pk, promotions.pk, "Promotions", "subscribed", before, wanted)}
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert ConsentEvent.objects.get().subject == ConsentSubject.CATEGORY
        assert sent_signals == [
            (
                "categories_changed",
                {
                    "sender": Category,
                    "contact_ids": frozenset({contact.pk}),
                    "changes": frozenset(changes),
                    "origin": form_origin,
                },
            )
        ]

    @pytest.mark.parametrize("state", [None, True, False])
    def test_choosing_the_current_state_changes_nothing(
        self, state, promotions, origin, sent_signals
    ):
        contact = ContactFactory()
        if state is not None:
            CategoryChoiceFactory(contact=contact, category=promotions, subscribed=state)

        assert services.set_category_choices([contact], {promotions: state}, origin) == set()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    def test_many_contacts_many_categories_only_real_changes(
        self, contacts_kind, promotions, origin, sent_signals
    ):
        news, partners, untouched = (
            CategoryFactory(name=name) for name in ("News", "Partners", "Untouched")
        )
        ann, bob, cat = ContactFactory.create_batch(3)
        CategoryChoiceFactory(contact=ann, category=promotions, subscribed=False)
        CategoryChoiceFactory(contact=bob, category=news, subscribed=True)
        CategoryChoiceFactory(contact=cat, category=partners, subscribed=False)
        CategoryChoiceFactory(contact=cat, category=untouched, subscribed=False)

        changes = services.set_category_choices(
            as_kind([ann, bob, cat], contacts_kind),
            {promotions: False, news: None, partners: True},
            origin,
        )

        assert changes == {
            (bob.pk, promotions.pk, False),
            (cat.pk, promotions.pk, False),
            (bob.pk, news.pk, None),
            (ann.pk, partners.pk, True),
            (bob.pk, partners.pk, True),
            (cat.pk, partners.pk, True),
        }
        assert logged() == {
            (bob.pk, promotions.pk, "Promotions", "subscribed", None, False),
            (cat.pk, promotions.pk, "Promotions", "subscribed", None, False),
            (bob.pk, news.pk, "News", "subscribed", True, None),
            (ann.pk, partners.pk, "Partners", "subscribed", None, True),
            (bob.pk, partners.pk, "Partners", "subscribed", None, True),
            (cat.pk, partners.pk, "Partners", "subscribed", False, True),
        }
        assert set(
            CategoryChoice.objects.values_list("contact_id", "category_id", "subscribed")
        ) == {
            (ann.pk, promotions.pk, False),
            (bob.pk, promotions.pk, False),
            (cat.pk, promotions.pk, False),
            (ann.pk, partners.pk, True),
            (bob.pk, partners.pk, True),
            (cat.pk, partners.pk, True),
            (cat.pk, untouched.pk, False),
        }
        assert set(Contact.objects.opted_out_of(promotions)) == {ann, bob, cat}
        assert len(sent_signals) == 1
        assert sent_signals[0][1]["contact_ids"] == {ann.pk, bob.pk, cat.pk}

    def test_choices_record_the_path_and_time(self, promotions, form_origin):
        contact = ContactFactory()
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=True)
        before = timezone.now()

        services.set_category_choices([contact], {promotions: False}, form_origin)

        choice = CategoryChoice.objects.get()
        assert choice.source == ChangePath.FORM
        assert choice.changed_at >= before

    def test_no_choices(self, origin, sent_signals):
        assert services.set_category_choices([ContactFactory()], {}, origin) == frozenset()
        assert sent_signals == []

    def test_unknown_contact_ids_raise_and_change_nothing(self, promotions, origin, sent_signals):
        contact = ContactFactory()

        with pytest.raises(InvalidChange, match=str(contact.pk + 1000)):
            services.set_category_choices(
                [contact.pk, contact.pk + 1000], {promotions: False}, origin
            )

        assert not CategoryChoice.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_change_back(self, promotions, origin, failing_receiver):
        failing_receiver(signals.categories_changed)
        contact = ContactFactory()
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)

        with pytest.raises(RuntimeError):
            services.set_category_choices([contact], {promotions: None}, origin)

        assert CategoryChoice.objects.get().subscribed is False
        assert not ConsentEvent.objects.exists()

    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, promotions, origin, django_assert_num_queries
    ):
        make_contacts(500)
        news = CategoryFactory(name="News")

        # SAVEPOINT, contact ids, current choices, RELEASE
        with django_assert_num_queries(
            4 + bulk_create_statements(CategoryChoice, 1000) + insert_statements(ConsentEvent, 1000)
        ):
            changes = services.set_category_choices(
                Contact.objects.all(), {promotions: False, news: True}, origin
            )

        assert len(changes) == 1000


class TestUpdateChannels:
    @pytest.fixture
    def contact(self):
        return ContactFactory()

    def channel_events(self):
        return {
            (e.subject_label, e.field): (e.old_value, e.new_value)
            for e in ConsentEvent.objects.filter(subject=ConsentSubject.CHANNEL)
        }

    def test_a_first_setting_creates_the_row_and_logs_the_field(
        self, contact, form_origin, sent_signals
    ):
        changed = services.update_channels(
            contact, {"email": ChannelSettings(enabled=False)}, form_origin
        )

        assert changed == {"email"}
        row = ContactChannel.objects.get()
        assert (row.contact, row.channel, row.enabled) == (contact, "email", False)
        event = ConsentEvent.objects.get()
        assert (event.subject, event.subject_id, event.subject_label, event.field) == (
            ConsentSubject.CHANNEL,
            None,
            "email",
            "enabled",
        )
        assert (event.old_value, event.new_value) == (True, False)
        assert_stamped([event], form_origin)
        assert sent_signals == [
            (
                "channels_changed",
                {
                    "sender": ContactChannel,
                    "contact_ids": frozenset({contact.pk}),
                    "channels": frozenset({"email"}),
                    "origin": form_origin,
                },
            )
        ]

    def test_each_changed_field_is_logged_once(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="email", weekly=True)

        services.update_channels(
            contact,
            {
                "email": ChannelSettings(
                    frequency_count=2,
                    frequency_period="day",
                    pause_from=MONDAY,
                    pause_to=FRIDAY,
                )
            },
            origin,
        )

        row = ContactChannel.objects.get()
        assert (row.frequency_count, row.frequency_period) == (2, "day")
        assert (row.pause_from, row.pause_to) == (MONDAY, FRIDAY)
        assert self.channel_events() == {
            ("email", "frequency"): ([1, "week"], [2, "day"]),
            ("email", "pause"): (None, ["2025-06-02", "2025-06-06"]),
        }

    def test_clearing_a_frequency_and_an_open_ended_pause(self, contact, origin):
        ContactChannelFactory(
            contact=contact, channel="sms", weekly=True, pause_from=MONDAY, pause_to=None
        )

        services.update_channels(contact, {"sms": ChannelSettings()}, origin)

        assert ChannelSettings.of(ContactChannel.objects.get()) == ChannelSettings()
        assert self.channel_events() == {
            ("sms", "frequency"): ([1, "week"], None),
            ("sms", "pause"): (["2025-06-02", None], None),
        }

    def test_preferring_a_channel_unprefers_the_previous_one(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", preferred=True, weekly=True)

        changed = services.update_channels(
            contact, {"sms": ChannelSettings(is_preferred=True)}, origin
        )

        assert changed == {"email", "sms"}
        assert dict(contact.channel_settings.values_list("channel", "is_preferred")) == {
            "email": False,
            "sms": True,
        }
        # The rest of the email settings stay as they were.
        assert ContactChannel.objects.get(channel="email").frequency_count == 1
        assert self.channel_events() == {
            ("email", "preferred"): (True, False),
            ("sms", "preferred"): (False, True),
        }
        assert len(sent_signals) == 1
        assert sent_signals[0][1]["channels"] == {"email", "sms"}

    def test_switching_preferred_within_one_call(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)

        services.update_channels(
            contact,
            {"email": ChannelSettings(), "sms": ChannelSettings(is_preferred=True)},
            origin,
        )

        assert list(contact.channel_settings.filter(is_preferred=True)) == [
            ContactChannel.objects.get(channel="sms")
        ]

    def test_two_preferred_channels_raise_and_change_nothing(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)

        with pytest.raises(InvalidChange):
            services.update_channels(
                contact,
                {
                    "email": ChannelSettings(is_preferred=True),
                    "sms": ChannelSettings(is_preferred=True, enabled=False),
                },
                origin,
            )

        assert list(contact.channel_settings.values_list("channel", "is_preferred")) == [
            ("email", True)
        ]
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"frequency_count": 3},
            {"frequency_period": "week"},
            {"frequency_count": 0, "frequency_period": "week"},
            {"frequency_count": 0},
            {"frequency_count": -1, "frequency_period": "week"},
            {"frequency_count": 2, "frequency_period": "fortnight"},
            {"pause_from": FRIDAY, "pause_to": MONDAY},
        ],
        ids=[
            "count-without-period",
            "period-without-count",
            "zero-count",
            "zero-count-alone",
            "negative-count",
            "unknown-period",
            "pause-ends-before-it-starts",
        ],
    )
    def test_invalid_settings_are_refused(self, kwargs):
        with pytest.raises(InvalidChange):
            ChannelSettings(**kwargs)

    def test_an_unknown_channel_raises_and_changes_nothing(self, contact, origin, sent_signals):
        with pytest.raises(UnknownChannel, match="carrier-pigeon"):
            services.update_channels(
                contact,
                {
                    "email": ChannelSettings(enabled=False),
                    "carrier-pigeon": ChannelSettings(enabled=False),
                },
                origin,
            )

        assert not ContactChannel.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_nothing_changes_no_event_no_signal(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", weekly=True, preferred=True)

        changed = services.update_channels(
            contact,
            {
                "email": ChannelSettings(
                    frequency_count=1, frequency_period="week", is_preferred=True
                ),
                "sms": ChannelSettings(),
            },
            origin,
        )

        assert changed == frozenset()
        # Default settings for a channel without a row need no row.
        assert list(contact.channel_settings.values_list("channel", flat=True)) == ["email"]
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_channels_not_mentioned_are_left_alone(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="sms", disabled=True)
        other = ContactChannelFactory(channel="email", disabled=True)

        services.update_channels(contact, {"email": ChannelSettings(enabled=False)}, origin)

        assert dict(contact.channel_settings.values_list("channel", "enabled")) == {
            "sms": False,
            "email": False,
        }
        assert ContactChannel.objects.get(pk=other.pk).contact == other.contact
        assert set(ConsentEvent.objects.values_list("contact_id", "subject_label")) == {
            (contact.pk, "email")
        }

    def test_a_failing_receiver_rolls_the_change_back(self, contact, origin, failing_receiver):
        failing_receiver(signals.channels_changed)

        with pytest.raises(RuntimeError):
            services.update_channels(contact, {"sms": ChannelSettings(enabled=False)}, origin)

        assert not ContactChannel.objects.exists()
        assert not ConsentEvent.objects.exists()

    def test_channel_settings_reads_each_row(self, contact):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)
        ContactChannelFactory(contact=contact, channel="sms", disabled=True, paused=True)

        settings_by_channel = services.channel_settings(contact)

        assert settings_by_channel["email"] == ChannelSettings(is_preferred=True)
        sms = settings_by_channel["sms"]
        assert (sms.enabled, sms.pause_to - sms.pause_from) == (False, datetime.timedelta(7))
        assert set(settings_by_channel) == {"email", "sms"}

    def test_logged_groups_the_values(self):
        assert ChannelSettings(
            enabled=False, frequency_count=3, frequency_period="month", pause_to=FRIDAY
        ).logged() == {
            "enabled": False,
            "frequency": [3, "month"],
            "pause": [None, "2025-06-06"],
            "preferred": False,
        }


class TestSetStatus:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    def test_contacts_that_change_are_logged(self, contacts_kind, form_origin, sent_signals):
        pending = ContactFactory()
        confirmed = ContactFactory(confirmed=True)
        unsubscribed = ContactFactory(unsubscribed=True)
        bystander = ContactFactory(confirmed=True)

        changed = services.set_status(
            as_kind([pending, confirmed, unsubscribed], contacts_kind),
            ContactStatus.UNSUBSCRIBED,
            form_origin,
        )

        assert changed == {pending.pk, confirmed.pk}
        assert dict(Contact.objects.values_list("pk", "status")) == {
            pending.pk: "unsubscribed",
            confirmed.pk: "unsubscribed",
            unsubscribed.pk: "unsubscribed",
            bystander.pk: "confirmed",
        }
        assert logged() == {
            (pending.pk, None, "", "status", "pending", "unsubscribed"),
            (confirmed.pk, None, "", "status", "confirmed", "unsubscribed"),
        }
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {"status"}
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "contact_status_changed",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({pending.pk, confirmed.pk}),
                    "status": ContactStatus.UNSUBSCRIBED,
                    "origin": form_origin,
                },
            )
        ]

    def test_status_given_as_a_string(self, origin):
        contact = ContactFactory()

        services.set_status([contact], "confirmed", origin)

        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED

    def test_the_changed_contacts_are_marked_updated(self, origin):
        changed, unchanged = ContactFactory(), ContactFactory(confirmed=True)
        before = {c.pk: c.updated_at for c in Contact.objects.all()}

        services.set_status([changed, unchanged], ContactStatus.CONFIRMED, origin)

        after = dict(Contact.objects.values_list("pk", "updated_at"))
        assert after[changed.pk] > before[changed.pk]
        assert after[unchanged.pk] == before[unchanged.pk]

    def test_no_change_no_event_no_signal(self, origin, sent_signals):
        contact = ContactFactory(confirmed=True)

        assert services.set_status([contact], "confirmed", origin) == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_unknown_status_raises_and_changes_nothing(self, origin, sent_signals):
        contact = ContactFactory()

        with pytest.raises(InvalidChange, match="subscribed-ish"):
            services.set_status([contact], "subscribed-ish", origin)

        assert Contact.objects.get().status == ContactStatus.PENDING
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_status_changed)
        contact = ContactFactory()

        with pytest.raises(RuntimeError):
            services.set_status([contact], ContactStatus.BLOCKED, origin)

        assert Contact.objects.get().status == ContactStatus.PENDING
        assert not ConsentEvent.objects.exists()

    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, origin, django_assert_num_queries
    ):
        make_contacts(500)

        # SAVEPOINT, contact ids, current statuses, UPDATE, RELEASE
        with django_assert_num_queries(5 + insert_statements(ConsentEvent, 500)):
            changed = services.set_status(Contact.objects.all(), "confirmed", origin)

        assert len(changed) == 500


class TestUpdateDetails:
    def test_changed_fields_are_saved_and_logged(self, form_origin, sent_signals):
        contact = ContactFactory(email="ada@example.com", first_name="Ada", last_name="King")

        changed = services.update_details(
            contact,
            {"email": "  Ada.Lovelace@Example.com", "first_name": "Ada", "last_name": "Lovelace"},
            form_origin,
        )

        assert changed == {"email", "last_name"}
        stored = Contact.objects.get()
        assert (stored.email, stored.first_name, stored.last_name) == (
            "ada.lovelace@example.com",
            "Ada",
            "Lovelace",
        )
        assert logged() == {
            (contact.pk, None, "", "email", "ada@example.com", "ada.lovelace@example.com"),
            (contact.pk, None, "", "last_name", "King", "Lovelace"),
        }
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {"contact"}
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "contact_details_changed",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({contact.pk}),
                    "fields": frozenset({"email", "last_name"}),
                    "origin": form_origin,
                },
            )
        ]

    def test_linking_a_user_logs_its_id(self, origin):
        contact, user = ContactFactory(), UserFactory()

        services.update_details(contact, {"user": user}, origin)

        assert Contact.objects.get().user == user
        assert logged() == {(contact.pk, None, "", "user", None, user.pk)}

    def test_custom_data_is_logged_as_json(self, origin):
        contact = ContactFactory(data={"source": "fair"})

        services.update_details(contact, {"data": {"source": "fair", "stand": 12}}, origin)

        assert Contact.objects.get().data == {"source": "fair", "stand": 12}
        event = ConsentEvent.objects.get()
        assert (event.field, event.old_value, event.new_value) == (
            "data",
            {"source": "fair"},
            {"source": "fair", "stand": 12},
        )

    def test_no_change_no_event_no_signal(self, origin, sent_signals):
        contact = ContactFactory(first_name="Ada", email="ada@example.com")

        changed = services.update_details(
            contact, {"first_name": "Ada", "email": "ADA@example.com"}, origin
        )

        assert changed == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_stale_instance_does_not_undo_other_changes(self, origin):
        contact = ContactFactory(confirmed=True)
        services.set_status(Contact.objects.filter(pk=contact.pk), "unsubscribed", origin)

        services.update_details(contact, {"first_name": "Grace"}, origin)

        stored = Contact.objects.get()
        assert (stored.first_name, stored.status) == ("Grace", ContactStatus.UNSUBSCRIBED)

    def test_unknown_fields_raise_and_change_nothing(self, origin, sent_signals):
        contact = ContactFactory(first_name="Ada")

        with pytest.raises(InvalidChange, match="secret, status"):
            services.update_details(
                contact, {"first_name": "Eve", "status": "confirmed", "secret": "x"}, origin
            )

        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    @pytest.mark.parametrize("email", ["", "   ", "not-an-address", "two@@example.com"])
    def test_an_invalid_email_raises_and_changes_nothing(self, email, origin, sent_signals):
        contact = ContactFactory(email="ada@example.com")

        with pytest.raises(InvalidChange):
            services.update_details(contact, {"email": email}, origin)

        assert Contact.objects.get().email == "ada@example.com"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_email_taken_by_another_contact_raises_and_changes_nothing(
        self, origin, sent_signals
    ):
        ContactFactory(email="taken@example.com")
        contact = ContactFactory(email="ada@example.com", first_name="Ada")

        with pytest.raises(InvalidChange, match="taken@example.com is another contact's"):
            services.update_details(
                contact, {"email": "TAKEN@example.com", "first_name": "Eve"}, origin
            )

        stored = Contact.objects.get(pk=contact.pk)
        assert (stored.email, stored.first_name) == ("ada@example.com", "Ada")
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_details_changed)
        contact = ContactFactory(first_name="Ada")

        with pytest.raises(RuntimeError):
            services.update_details(contact, {"first_name": "Eve"}, origin)

        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()


class TestGetOrCreateContact:
    def test_a_new_address_creates_a_contact(self, form_origin, sent_signals):
        contact, created = services.get_or_create_contact(
            "  New.Person@Example.COM ", form_origin, first_name="New", locale="nl"
        )

        assert created is True
        stored = Contact.objects.get()
        assert stored == contact
        assert (stored.email, stored.first_name, stored.locale, stored.status) == (
            "new.person@example.com",
            "New",
            "nl",
            ContactStatus.PENDING,
        )
        event = ConsentEvent.objects.get()
        assert (event.contact, event.subject, event.subject_id, event.field) == (
            contact,
            ConsentSubject.CONTACT,
            None,
            "created",
        )
        assert event.old_value is None
        assert event.new_value == {"email": "new.person@example.com", "status": "pending"}
        assert_stamped([event], form_origin)
        assert sent_signals == [
            (
                "contact_created",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({contact.pk}),
                    "origin": form_origin,
                },
            )
        ]

    def test_an_address_in_another_case_finds_the_contact(self, origin, sent_signals):
        existing = ContactFactory(email="ada@example.com", first_name="Ada")

        contact, created = services.get_or_create_contact(
            "ADA@Example.com", origin, first_name="Someone else"
        )

        assert (contact, created) == (existing, False)
        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_details_may_set_the_status(self, origin):
        contact, _ = services.get_or_create_contact(
            "new@example.com", origin, status=ContactStatus.CONFIRMED
        )

        assert ConsentEvent.objects.get().new_value == {
            "email": "new@example.com",
            "status": "confirmed",
        }
        assert contact.status == ContactStatus.CONFIRMED

    @pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "a@b@example.com"])
    def test_an_invalid_email_raises_and_creates_nothing(self, email, origin, sent_signals):
        with pytest.raises(InvalidChange):
            services.get_or_create_contact(email, origin)

        assert not Contact.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_creation_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_created)

        with pytest.raises(RuntimeError):
            services.get_or_create_contact("new@example.com", origin)

        assert not Contact.objects.exists()
        assert not ConsentEvent.objects.exists()


class TestCreateContacts:
    def test_creates_each_with_its_details_one_event_each_and_one_signal(
        self, form_origin, sent_signals
    ):
        ids = services.create_contacts(
            [
                {"email": " Ann@Example.com ", "first_name": "Ann", "data": {"club": "Ghent"}},
                {"email": "bob@example.com", "status": ContactStatus.CONFIRMED},
            ],
            form_origin,
        )

        ann, bob = (
            Contact.objects.get(email="ann@example.com"),
            Contact.objects.get(email="bob@example.com"),
        )
        assert ids == {"ann@example.com": ann.pk, "bob@example.com": bob.pk}
        assert (ann.first_name, ann.data, ann.status) == ("Ann", {"club": "Ghent"}, "pending")
        assert (bob.first_name, bob.data, bob.status) == ("", {}, "confirmed")
        assert ann.secret and bob.secret and ann.secret != bob.secret
        events = ConsentEvent.objects.order_by("contact__email")
        assert [(e.contact_id, e.field, e.new_value) for e in events] == [
            (ann.pk, "created", {"email": "ann@example.com", "status": "pending"}),
            (bob.pk, "created", {"email": "bob@example.com", "status": "confirmed"}),
        ]
        assert_stamped(events, form_origin)
        assert [(name, kwargs["contact_ids"]) for name, kwargs in sent_signals] == [
            ("contact_created", frozenset([ann.pk, bob.pk]))
        ]

    def test_nothing_to_create(self, origin, sent_signals):
        assert services.create_contacts([], origin) == {}
        assert sent_signals == []


class TestUpdateContacts:
    def test_changes_only_what_differs_and_logs_each_field(self, form_origin, sent_signals):
        ann = ContactFactory(first_name="Ann", last_name="Old", data={"a": 1})
        bob = ContactFactory(first_name="Bob")

        changed = services.update_contacts(
            {
                ann.pk: {"first_name": "Ann", "last_name": "New", "data": {"a": 1, "b": 2}},
                bob.pk: {"first_name": "Bob"},
            },
            form_origin,
        )

        assert changed == frozenset([ann.pk])
        ann.refresh_from_db()
        assert (ann.first_name, ann.last_name, ann.data) == ("Ann", "New", {"a": 1, "b": 2})
        events = ConsentEvent.objects.order_by("field")
        assert [(e.field, e.old_value, e.new_value) for e in events] == [
            ("data", {"a": 1}, {"a": 1, "b": 2}),
            ("last_name", "Old", "New"),
        ]
        assert_stamped(events, form_origin)
        ((name, kwargs),) = sent_signals
        assert name == "contact_details_changed"
        assert (kwargs["contact_ids"], kwargs["fields"]) == (
            frozenset([ann.pk]),
            frozenset(["last_name", "data"]),
        )

    def test_refuses_fields_it_does_not_change_in_bulk(self, origin):
        contact = ContactFactory()

        with pytest.raises(InvalidChange, match="email"):
            services.update_contacts({contact.pk: {"email": "x@example.com"}}, origin)


class TestPreferencePairs:
    def test_adds_and_removes_per_contact(self, origin, products, events, sent_signals):
        ann, bob = ContactFactory(preferences=[events]), ContactFactory()

        added = services.add_preference_pairs(
            [(ann.pk, products.pk), (ann.pk, events.pk), (bob.pk, events.pk)], origin
        )
        removed = services.remove_preference_pairs(
            [(ann.pk, events.pk), (bob.pk, products.pk)], origin
        )

        assert added == frozenset([(ann.pk, products.pk), (bob.pk, events.pk)])
        assert removed == frozenset([(ann.pk, events.pk)])
        assert set(ann.preferences.all()) == {products}
        assert set(bob.preferences.all()) == {events}
        assert [name for name, _ in sent_signals] == ["preferences_added", "preferences_removed"]
        assert ConsentEvent.objects.count() == 3

    def test_pairs_of_a_preference_that_does_not_exist_change_nothing(
        self, origin, products, sent_signals
    ):
        contact = ContactFactory(preferences=[products])
        gone = PreferenceFactory()
        gone_pk = gone.pk
        Preference.objects.filter(pk=gone_pk).delete()

        assert services.add_preference_pairs([(contact.pk, gone_pk)], origin) == frozenset()
        assert services.remove_preference_pairs([(contact.pk, gone_pk)], origin) == frozenset()
        assert sent_signals == []
