"""``services.Origin``: who, where and how a change was made, as its consent events record it."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy

from tests.factories import ContactFactory
from tests.services.service_helpers import assert_stamped
from wagtail_preferences import services
from wagtail_preferences.models import ChangePath, ConsentEvent, ConsentSubject, ContactStatus
from wagtail_preferences.services import Origin

pytestmark = pytest.mark.django_db


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
