"""``services.set_category_choices``: opting contacts in or out of categories."""

import math

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CategoryChoiceFactory, CategoryFactory, ContactFactory
from tests.services.service_helpers import (
    as_kind,
    assert_stamped,
    insert_statements,
    logged,
    make_contacts,
)
from wagtail_preferences import services, signals
from wagtail_preferences.audience import compiler
from wagtail_preferences.db.batches import BATCH_SIZE
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import (
    Category,
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
)

pytestmark = pytest.mark.django_db


def bulk_create_statements(model, rows):
    """How many INSERT statements ``bulk_create`` of ``rows`` rows needs on this database.

    PostgreSQL takes a whole batch (BATCH_SIZE rows) in one statement; SQLite caps the number
    of parameters per statement, so it needs several.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    per_statement = min(BATCH_SIZE, connection.ops.bulk_batch_size(fields, [None] * rows))
    return math.ceil(rows / per_statement)


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
        assert set(Contact.objects.filter(compiler.opted_out_of(promotions))) == {ann, bob, cat}
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
