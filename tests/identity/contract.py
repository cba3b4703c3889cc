"""The contract every identity resolver keeps, as a mixin of test methods (as Django's session
backend tests are written).

A resolver takes a request and returns the ``Contact`` the visitor is, or ``None``: it says who
the visitor is, not what they may do, so it recognises a contact whatever their status (the
pages decide what an unsubscribed or blocked contact may do). It only reads, and it never
raises on evidence that someone made up or changed: it returns ``None``.

A concrete test class mixes ``ResolverContract`` in and provides these fixtures:

- ``resolver``: the resolver under test;
- ``request_for``: a function taking a contact and returning a request whose evidence (a
  signed-in user, a token, a cookie, a header...) names that contact;
- ``tampered_requests``: a function taking a contact and returning requests whose evidence
  names that contact but was tampered with, forged or made up (``GARBAGE`` holds values to
  make some of them from).

Requests start from ``anonymous_request()``, a request as Django's middleware leaves it for a
visitor it knows nothing about. The class may raise ``max_queries``, the number of queries a
resolver may make (its own, not those of Django's session or user middleware). A site's own
resolver can reuse the mixin the same way.
"""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory
from wagtail_preferences.models import Contact, ContactStatus

#: Evidence values that name nobody: empty, not signed, not even text a signer writes.
GARBAGE = ("", "garbage", "1:abc:def", "x" * 10_000, "\x00", "é😀", '[1, "a"]', "../../etc")

WRITES = ("INSERT", "UPDATE", "DELETE")


class ResolverContract:
    max_queries = 1

    @staticmethod
    def anonymous_request(path="/", **query):
        """A GET request with an empty session and an anonymous user, and no cookies."""
        request = RequestFactory().get(path, query)
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
        request.user = AnonymousUser()
        return request

    @pytest.fixture
    def contact(self, db):
        return ContactFactory(confirmed=True)

    def resolve_counted(self, resolver, request):
        """What ``resolver`` returns for ``request``, checking that it wrote nothing and made
        at most ``max_queries`` queries."""
        with CaptureQueriesContext(connection) as queries:
            found = resolver(request)
        statements = [query["sql"] for query in queries.captured_queries]
        assert len(statements) <= self.max_queries, statements
        assert not [sql for sql in statements if sql.lstrip().upper().startswith(WRITES)]
        return found

    def test_the_evidence_names_its_contact(self, resolver, request_for, contact):
        found = self.resolve_counted(resolver, request_for(contact))

        assert isinstance(found, Contact)
        assert found.pk == contact.pk

    def test_each_contact_is_told_apart(self, resolver, request_for, db):
        ann, bob = ContactFactory(confirmed=True), ContactFactory(confirmed=True)
        ann_request, bob_request = request_for(ann), request_for(bob)

        assert resolver(bob_request).pk == bob.pk
        assert resolver(ann_request).pk == ann.pk

    def test_a_visitor_without_evidence_is_nobody(self, resolver, contact):
        assert self.resolve_counted(resolver, self.anonymous_request()) is None

    def test_tampered_evidence_is_nobody(self, resolver, tampered_requests, contact):
        requests = list(tampered_requests(contact))
        assert requests, "expected at least one tampered request"
        for number, request in enumerate(requests):
            found = self.resolve_counted(resolver, request)
            assert found is None, f"tampered request {number} named {found!r}"

    def test_the_evidence_of_a_deleted_contact_is_nobody(self, resolver, request_for, contact):
        request = request_for(contact)
        contact.delete()

        assert self.resolve_counted(resolver, request) is None

    @pytest.mark.parametrize("status", ContactStatus.values)
    def test_a_contact_is_recognised_whatever_their_status(
        self, resolver, request_for, contact, status
    ):
        Contact.objects.filter(pk=contact.pk).update(status=status)

        found = self.resolve_counted(resolver, request_for(contact))

        assert found.pk == contact.pk
        assert found.status == status
