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


@pytest.fixture(autouse=True)
def ses_without_boto3(monkeypatch):
    """anymail's SES webhook needs boto3 only to confirm an SNS subscription, which these
    tests never post: they run without the ``amazon-ses`` extra installed."""
    from anymail.webhooks import amazon_ses

    monkeypatch.setattr(amazon_ses, "_get_anymail_boto3_params", lambda **kwargs: ({}, {}))
