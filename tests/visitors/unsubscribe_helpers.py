"""The contact, requests and wording shared by the unsubscribe tests."""

import pytest
from django.test import Client

from tests.factories import ContactFactory

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def contact(products, events, promotions, news):
    return ContactFactory(email="ann@example.com", confirmed=True, preferences=[products, events])


def mail_program():
    """A mail program's one-click request: no cookies, no CSRF token."""
    return Client(enforce_csrf_checks=True)


def one_click(path, *, multipart=False):
    if multipart:
        return mail_program().post(path, {"List-Unsubscribe": "One-Click"})
    return mail_program().post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")


def status_of(contact):
    contact.refresh_from_db()
    return contact.status
