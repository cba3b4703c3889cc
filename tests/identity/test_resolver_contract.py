"""Every built-in identity resolver, and the docs' example, keeps the contract of
``tests/identity/contract.py``."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.docs_examples import docs_example
from tests.factories import UserFactory
from tests.identity.contract import GARBAGE, ResolverContract
from wagtail_preferences.conf import DEFAULTS, get_setting
from wagtail_preferences.identity import resolvers, tokens
from wagtail_preferences.models import Contact

pytestmark = pytest.mark.django_db

#: The built-in resolvers the classes below test: a new one needs a class of its own.
TESTED = ("from_user", "from_link_token", "from_cookie")
#: The purposes of the tokens that name a contact: a token of one is worthless for the others.
CONTACT_PURPOSES = ("manage", "link", "cookie")


def tampered_tokens(contact, purpose: str) -> list[str]:
    """Tokens that name ``contact`` but must not be believed for ``purpose``, and garbage."""
    genuine = tokens.contact_token(contact, purpose=purpose)
    max_age = get_setting(tokens.MAX_AGE_SETTINGS[purpose])
    with time_machine.travel(timezone.now() - max_age - timedelta(days=1), tick=False):
        expired = tokens.contact_token(contact, purpose=purpose)
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        from_the_future = tokens.contact_token(contact, purpose=purpose)
    revoked = tokens.contact_token(Contact(pk=contact.pk, secret="a secret since rotated"), purpose)
    return [
        genuine[:-1] + ("A" if genuine[-1] != "A" else "B"),
        *(tokens.contact_token(contact, other) for other in CONTACT_PURPOSES if other != purpose),
        expired,
        from_the_future,
        revoked,
        *GARBAGE,
    ]


class TestFromUser(ResolverContract):
    @pytest.fixture
    def resolver(self):
        return resolvers.from_user

    @pytest.fixture
    def request_for(self):
        def request_for(contact):
            user = UserFactory()
            Contact.objects.filter(pk=contact.pk).update(user=user)
            request = self.anonymous_request()
            request.user = user
            return request

        return request_for

    @pytest.fixture
    def tampered_requests(self, request_for):
        def tampered_requests(contact):
            without_a_contact = self.anonymous_request()
            without_a_contact.user = UserFactory()
            deleted = request_for(contact)
            deleted.user.delete()
            return [without_a_contact, deleted]

        return tampered_requests


class TokenResolverContract(ResolverContract):
    """A resolver that reads a signed token of ``purpose`` where ``carrying`` puts it."""

    purpose: str

    def carrying(self, token):
        raise NotImplementedError

    @pytest.fixture
    def request_for(self):
        return lambda contact: self.carrying(tokens.contact_token(contact, self.purpose))

    @pytest.fixture
    def tampered_requests(self):
        return lambda contact: [
            self.carrying(token) for token in tampered_tokens(contact, self.purpose)
        ]


class TestFromLinkToken(TokenResolverContract):
    purpose = "link"

    @pytest.fixture
    def resolver(self):
        return resolvers.from_link_token

    def carrying(self, token):
        return self.anonymous_request(**{get_setting("LINK_TOKEN_PARAMETER"): token})


class TestFromCookie(TokenResolverContract):
    purpose = "cookie"

    @pytest.fixture
    def resolver(self):
        return resolvers.from_cookie

    def carrying(self, token):
        request = self.anonymous_request()
        request.COOKIES[get_setting("IDENTITY_COOKIE_NAME")] = token
        return request


def documented_example():
    """The test class of ``docs/extending.md``, with the resolver it tests from the docs."""
    names = {"pytest": pytest, "Contact": Contact, "ResolverContract": ResolverContract}
    for page, after in (
        ("dynamic-content.md", "A resolver is any function"),
        ("extending.md", "## Adding an identity resolver"),
    ):
        exec(docs_example(page, "python", after), names)  # noqa: S102 (the docs' own code)
    return names["TestFromCrmSession"]


TestDocumentedResolver = documented_example()


def test_every_built_in_resolver_is_tested_against_the_contract():
    built_in = {name for name in vars(resolvers) if name.startswith("from_")}
    defaults = {path.rsplit(".", 1)[1] for path in DEFAULTS["IDENTITY_RESOLVERS"]}

    assert built_in == defaults == set(TESTED)
