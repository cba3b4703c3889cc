import pytest

from tests.factories import ContactFactory, DeliveryFactory


@pytest.fixture
def contact(db):
    return ContactFactory(confirmed=True, email="jane@example.com")


@pytest.fixture
def delivery(contact):
    return DeliveryFactory(contact=contact, address=contact.email)


@pytest.fixture
def webhook(client, django_capture_on_commit_callbacks):
    """Post a ``payloads.Post`` as the provider would; the processing task runs after the
    receiver's commit, as on a site. Returns the response."""

    def post(post):
        with django_capture_on_commit_callbacks(execute=True):
            response = post.send(client)
        assert response.status_code == 200, response.content
        return response

    return post
