"""Fixtures of the visitor tests: the manage page's contact and segments, a form page, its form."""

import pytest
from django.test import Client

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.visitor_helpers import VisitorForm, form_page
from wagtail_preferences import services
from wagtail_preferences.models import ChangePath


@pytest.fixture
def vip():
    return PreferenceFactory(name="VIP customers", internal=True)


@pytest.fixture
def news():
    return CategoryFactory(name="News")


@pytest.fixture
def contact(products, trainings, vip, promotions, news):
    return ContactFactory(
        email="ann@example.com", first_name="Ann", confirmed=True, preferences=[products, vip]
    )


@pytest.fixture
def beta(contact):
    segment = SegmentFactory(name="Beta testers", is_public=True)
    services.add_to_segment(contact, segment, services.Origin(path=ChangePath.ADMIN))
    return segment


@pytest.fixture
def staff_list(contact):
    segment = SegmentFactory(name="Staff list", is_public=False)
    services.add_to_segment(contact, segment, services.Origin(path=ChangePath.ADMIN))
    return segment


@pytest.fixture
def browser(contact, beta):
    """A visitor's browser that follows no link yet; ``contact`` and ``beta`` are set up."""
    return Client()


@pytest.fixture
def preference():
    return PreferenceFactory(name="Products")


@pytest.fixture
def category():
    return CategoryFactory(name="Promotions")


@pytest.fixture
def page(preference, category):
    return form_page(preferences=[preference], categories=[category])


@pytest.fixture
def form(client, page):
    return VisitorForm.of(client, page)
