"""Every built-in segment criterion keeps the criterion contract (``contract.py``)."""

import datetime

import pytest
from django.utils import timezone

from tests import segment_helpers as crit
from tests.audience.contract import CriterionContract
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
)
from tests.visitor_helpers import form_page
from wagtail_preferences.models import (
    ContactStatus,
    FormSubmission,
    Segment,
    SegmentMember,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def other():
    return ContactFactory(email="other@example.org", first_name="Bob", last_name="Lee", locale="en")


class TestPreferencesAnyOf(CriterionContract):
    @pytest.fixture
    def products(self):
        return PreferenceFactory(name="Products")

    @pytest.fixture
    def raw(self, products):
        return crit.preferences("any", products, PreferenceFactory(name="Events"))

    @pytest.fixture
    def matching(self, products):
        return ContactFactory(preferences=[products])


class TestPreferencesAllOf(TestPreferencesAnyOf):
    @pytest.fixture
    def raw(self, products, events):
        return crit.preferences("all", products, events)

    @pytest.fixture
    def events(self):
        return PreferenceFactory(name="Events")

    @pytest.fixture
    def matching(self, products, events):
        return ContactFactory(preferences=[products, events])

    @pytest.fixture
    def other(self, products):
        return ContactFactory(preferences=[products])


class TestPreferencesNoneOf(TestPreferencesAnyOf):
    @pytest.fixture
    def raw(self, products):
        return crit.preferences("none", products)

    @pytest.fixture
    def matching(self):
        return ContactFactory()

    @pytest.fixture
    def other(self, products):
        return ContactFactory(preferences=[products])


class TestCategoryOptedOut(CriterionContract):
    @pytest.fixture
    def promotions(self):
        return CategoryFactory(name="Promotions")

    @pytest.fixture
    def raw(self, promotions):
        return crit.category("opted_out", promotions)

    @pytest.fixture
    def matching(self, promotions):
        contact = ContactFactory()
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        return contact


class TestCategorySubscribed(TestCategoryOptedOut):
    @pytest.fixture
    def raw(self, promotions):
        return crit.category("subscribed", promotions)

    @pytest.fixture
    def matching(self):
        return ContactFactory()

    @pytest.fixture
    def other(self, promotions):
        contact = ContactFactory()
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        return contact


class TestChannelDisabled(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.channel("email", "disabled")

    @pytest.fixture
    def matching(self):
        return ContactChannelFactory(channel="email", disabled=True).contact


class TestChannelPaused(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.channel("sms", "paused")

    @pytest.fixture
    def matching(self):
        return ContactChannelFactory(channel="sms", paused=True).contact


class TestStatus(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.status(ContactStatus.BLOCKED)

    @pytest.fixture
    def matching(self):
        return ContactFactory(status=ContactStatus.BLOCKED)


class TestEmailDomain(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.email_domain("example.com")

    @pytest.fixture
    def matching(self):
        return ContactFactory(email="ann@example.com")


class TestLocale(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.locale("nl")

    @pytest.fixture
    def matching(self):
        return ContactFactory(locale="nl-BE")


class TestName(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.name_contains("ann")

    @pytest.fixture
    def matching(self):
        return ContactFactory(first_name="Joanna")


class TestCreated(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.created("within", days=7)

    @pytest.fixture
    def matching(self):
        return ContactFactory()

    @pytest.fixture
    def other(self):
        contact = ContactFactory()
        contact.created_at = timezone.now() - datetime.timedelta(days=30)
        contact.save(update_fields=["created_at"])
        return contact


class TestCustomData(CriterionContract):
    @pytest.fixture
    def raw(self):
        return crit.custom_data("plan", "equals", "gold")

    @pytest.fixture
    def matching(self):
        return ContactFactory(data={"plan": "gold"})

    @pytest.fixture
    def other(self):
        return ContactFactory(data={"size": "gold"})


class TestOtherSegment(CriterionContract):
    @pytest.fixture
    def vip(self):
        return Segment.objects.create(name="VIP")

    @pytest.fixture
    def raw(self, vip):
        return crit.segment("member", vip)

    @pytest.fixture
    def matching(self, vip):
        contact = ContactFactory()
        SegmentMember.objects.create(segment=vip, contact=contact)
        return contact

    def test_names_the_segment_it_depends_on(self, criterion, vip):
        assert criterion.block.referenced_segment_ids(criterion.value) == {vip.pk}


class TestFormSubmitted(CriterionContract):
    @pytest.fixture
    def page(self):
        return form_page(title="Sign up")

    @pytest.fixture
    def raw(self, page):
        return crit.form_submitted(page, days=30)

    @pytest.fixture
    def matching(self, page):
        contact = ContactFactory()
        FormSubmission.objects.create(
            contact=contact, page=page, page_title=page.title, status=SubmissionStatus.APPLIED
        )
        return contact
