import json
import zlib
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory
from tests.link_fixtures import pending_submission  # noqa: F401
from wagtail_preferences.exceptions import InvalidLink, LinkExpired
from wagtail_preferences.identity import tokens

pytestmark = pytest.mark.django_db

CONTACT_PURPOSES = ("manage", "cookie")


@pytest.fixture
def contact():
    return ContactFactory(email="ann.smith@example.com", first_name="Ann", last_name="Smith")


def payload_text(token: str) -> str:
    """The readable payload of a signed token (its first part, decompressed if need be)."""
    data = token.split(":")[0]
    compressed = data.startswith(".")
    raw = signing.b64_decode(data.lstrip(".").encode())
    return (zlib.decompress(raw) if compressed else raw).decode()


def decoders():
    return {
        "manage": tokens.contact_from_token,
        "cookie": lambda token: tokens.contact_from_token(token, "cookie"),
        "unsubscribe": tokens.unsubscribe_from_token,
        "confirm": tokens.submission_from_token,
    }


def issued(purpose, contact, submission):
    if purpose == "confirm":
        return tokens.confirmation_token(submission)
    if purpose == "unsubscribe":
        return tokens.unsubscribe_token(contact)
    return tokens.contact_token(contact, purpose)


class TestRoundTrip:
    @pytest.mark.parametrize("purpose", CONTACT_PURPOSES)
    def test_a_contact_token_names_its_contact(self, contact, purpose):
        token = tokens.contact_token(contact, purpose)

        assert tokens.contact_from_token(token, purpose) == contact

    def test_the_default_purpose_is_the_manage_link(self, contact):
        assert tokens.contact_from_token(tokens.contact_token(contact), "manage") == contact

    def test_an_unsubscribe_token_names_its_contact_and_everything(self, contact):
        found, scope = tokens.unsubscribe_from_token(tokens.unsubscribe_token(contact))

        assert found == contact
        assert scope == tokens.UnsubscribeScope("all", None)

    def test_an_unsubscribe_token_keeps_a_category_scope(self, contact):
        category = CategoryFactory()
        token = tokens.unsubscribe_token(contact, tokens.UnsubscribeScope.of(category))

        assert tokens.unsubscribe_from_token(token) == (
            contact,
            tokens.UnsubscribeScope("category", category.pk),
        )

    def test_an_unsubscribe_token_keeps_a_preference_scope(self, contact):
        preference = PreferenceFactory()
        token = tokens.unsubscribe_token(contact, tokens.UnsubscribeScope.of(preference))

        assert tokens.unsubscribe_from_token(token) == (
            contact,
            tokens.UnsubscribeScope("preference", preference.pk),
        )

    def test_a_confirmation_token_names_its_submission(self):
        submission = pending_submission()

        found = tokens.submission_from_token(tokens.confirmation_token(submission))

        assert found == submission
        assert found.contact.email == "ann@example.com"

    def test_two_contacts_get_different_tokens(self, contact):
        other = ContactFactory()

        assert tokens.contact_token(contact) != tokens.contact_token(other)
        assert tokens.contact_from_token(tokens.contact_token(other)) == other


class TestScope:
    def test_of_nothing_is_everything(self):
        assert tokens.UnsubscribeScope.of() == tokens.UnsubscribeScope()

    @pytest.mark.parametrize(
        ("kind", "pk"), [("segment", 1), ("all", 3), ("category", None), ("preference", None)]
    )
    def test_a_scope_must_make_sense(self, kind, pk):
        with pytest.raises(ValueError, match="scope|id"):
            tokens.UnsubscribeScope(kind, pk)


class TestRefused:
    @pytest.mark.parametrize(
        ("issued_for", "used_for"),
        [
            (issued_for, used_for)
            for issued_for in ("manage", "cookie", "unsubscribe", "confirm")
            for used_for in ("manage", "cookie", "unsubscribe", "confirm")
            if issued_for != used_for
        ],
    )
    def test_a_token_of_one_purpose_is_refused_for_another(self, contact, issued_for, used_for):
        submission = pending_submission(contact.email)
        token = issued(issued_for, contact, submission)

        with pytest.raises(InvalidLink) as raised:
            decoders()[used_for](token)

        assert not isinstance(raised.value, LinkExpired)

    @pytest.mark.parametrize("purpose", ["manage", "cookie", "unsubscribe", "confirm"])
    def test_a_tampered_signature_is_invalid(self, contact, purpose):
        token = issued(purpose, contact, pending_submission(contact.email))
        last = token[-1]
        tampered = token[:-1] + ("A" if last != "A" else "B")

        with pytest.raises(InvalidLink):
            decoders()[purpose](tampered)

    def test_a_tampered_payload_is_invalid(self, contact):
        other = ContactFactory()
        token = tokens.contact_token(contact)
        forged_payload = signing.b64_encode(json.dumps([other.pk, "0" * 16]).encode()).decode()
        forged = ":".join([forged_payload, *token.split(":")[1:]])

        with pytest.raises(InvalidLink):
            tokens.contact_from_token(forged)

    @pytest.mark.parametrize("purpose", ["manage", "cookie", "unsubscribe", "confirm"])
    def test_a_truncated_token_is_invalid(self, contact, purpose):
        token = issued(purpose, contact, pending_submission(contact.email))

        for cut in (1, len(token) // 2, len(token) - 1):
            with pytest.raises(InvalidLink):
                decoders()[purpose](token[:cut])

    @pytest.mark.parametrize(
        "garbage", ["", "garbage", "a:b:c", "::", "%00", "é" * 40, "." + "x" * 300]
    )
    @pytest.mark.parametrize("purpose", ["manage", "cookie", "unsubscribe", "confirm"])
    def test_garbage_is_invalid(self, purpose, garbage):
        with pytest.raises(InvalidLink):
            decoders()[purpose](garbage)

    def test_a_token_signed_with_another_secret_key_is_invalid(self, contact, settings):
        token = tokens.contact_token(contact)
        settings.SECRET_KEY = "another-key"

        with pytest.raises(InvalidLink):
            tokens.contact_from_token(token)

    def test_a_well_signed_token_with_a_wrong_fingerprint_is_invalid(self, contact):
        token = signing.dumps([contact.pk, "0" * 16], salt=tokens.SALT + "manage", compress=True)

        with pytest.raises(InvalidLink):
            tokens.contact_from_token(token)

    @pytest.mark.parametrize(
        "payload", [[], {"pk": 1}, "text", [None, None], ["pk"], ["pk", "fingerprint"]]
    )
    def test_a_well_signed_token_with_a_malformed_payload_is_invalid(self, contact, payload):
        if isinstance(payload, list):
            payload = [contact.pk if item == "pk" else item for item in payload]
            if "fingerprint" in payload:
                payload[1] = {"not": "a fingerprint"}
        token = signing.dumps(payload, salt=tokens.SALT + "manage", compress=True)

        with pytest.raises(InvalidLink):
            tokens.contact_from_token(token)

    def test_a_well_signed_unsubscribe_token_with_an_unknown_scope_is_invalid(self, contact):
        token = signing.dumps(
            [contact.pk, tokens.fingerprint(contact), "segment", 4],
            salt=tokens.SALT + "unsubscribe",
        )

        with pytest.raises(InvalidLink):
            tokens.unsubscribe_from_token(token)


class TestExpiry:
    @pytest.mark.parametrize(
        ("purpose", "max_age"),
        [
            ("manage", timedelta(days=60)),
            ("cookie", timedelta(days=180)),
            ("unsubscribe", timedelta(days=365)),
            ("confirm", timedelta(days=7)),
        ],
    )
    def test_a_token_works_until_its_max_age_then_expires_with_its_payload(
        self, contact, purpose, max_age
    ):
        submission = pending_submission(contact.email)
        token = issued(purpose, contact, submission)
        now = timezone.now()

        with time_machine.travel(now + max_age - timedelta(minutes=1), tick=False):
            assert decoders()[purpose](token)
        with (
            time_machine.travel(now + max_age + timedelta(minutes=1), tick=False),
            pytest.raises(LinkExpired) as expired,
        ):
            decoders()[purpose](token)

        subject = submission if purpose == "confirm" else contact
        assert expired.value.payload[:2] == [subject.pk, tokens.fingerprint(contact)]

    def test_an_expired_unsubscribe_token_keeps_its_scope_in_the_payload(self, contact):
        category = CategoryFactory()
        token = tokens.unsubscribe_token(contact, tokens.UnsubscribeScope.of(category))

        with (
            time_machine.travel(timezone.now() + timedelta(days=366), tick=False),
            pytest.raises(LinkExpired) as expired,
        ):
            tokens.unsubscribe_from_token(token)

        assert expired.value.payload == [
            contact.pk,
            tokens.fingerprint(contact),
            "category",
            category.pk,
        ]

    def test_the_max_age_setting_decides(self, contact, settings):
        settings.WAGTAIL_PREFERENCES = {"MANAGE_LINK_MAX_AGE": timedelta(hours=1)}
        token = tokens.contact_token(contact)

        with (
            time_machine.travel(timezone.now() + timedelta(hours=2), tick=False),
            pytest.raises(LinkExpired),
        ):
            tokens.contact_from_token(token)

    def test_an_expired_token_is_an_invalid_link_too(self, contact):
        token = tokens.contact_token(contact)

        with (
            time_machine.travel(timezone.now() + timedelta(days=61), tick=False),
            pytest.raises(InvalidLink),
        ):
            tokens.contact_from_token(token)

    def test_an_expired_tampered_token_is_invalid_not_expired(self, contact):
        token = tokens.contact_token(contact)

        with (
            time_machine.travel(timezone.now() + timedelta(days=61), tick=False),
            pytest.raises(InvalidLink) as raised,
        ):
            tokens.contact_from_token(token[:-2])

        assert not isinstance(raised.value, LinkExpired)


class TestRevocation:
    def test_rotating_the_secret_revokes_every_token(self, contact):
        submission = pending_submission(contact.email)
        issued_tokens = {
            purpose: issued(purpose, contact, submission)
            for purpose in ("manage", "cookie", "unsubscribe", "confirm")
        }
        for purpose, token in issued_tokens.items():
            assert decoders()[purpose](token)

        contact.rotate_secret()

        for purpose, token in issued_tokens.items():
            with pytest.raises(InvalidLink):
                decoders()[purpose](token)

    def test_a_new_token_works_after_rotating(self, contact):
        contact.rotate_secret()

        assert tokens.contact_from_token(tokens.contact_token(contact)) == contact

    def test_rotating_one_contacts_secret_leaves_the_others_tokens(self, contact):
        other = ContactFactory()
        token = tokens.contact_token(other)

        contact.rotate_secret()

        assert tokens.contact_from_token(token) == other

    @pytest.mark.parametrize("purpose", ["manage", "cookie", "unsubscribe", "confirm"])
    def test_a_deleted_contacts_token_is_invalid(self, contact, purpose):
        token = issued(purpose, contact, pending_submission(contact.email))

        contact.delete()

        with pytest.raises(InvalidLink):
            decoders()[purpose](token)

    def test_a_deleted_submissions_token_is_invalid(self):
        submission = pending_submission()
        token = tokens.confirmation_token(submission)

        submission.delete()

        with pytest.raises(InvalidLink):
            tokens.submission_from_token(token)


class TestPrivacy:
    @pytest.mark.parametrize("purpose", ["manage", "cookie", "unsubscribe", "confirm"])
    def test_a_token_carries_no_email_address_or_name(self, contact, purpose):
        token = issued(purpose, contact, pending_submission(contact.email))
        text = payload_text(token)

        assert json.loads(text)[:2] == [
            contact.pk if purpose != "confirm" else contact.form_submissions.get().pk,
            tokens.fingerprint(contact),
        ]
        for word in ("ann", "smith", "example", "@", contact.secret.lower()):
            assert word not in text.lower()
        for word in (contact.email, contact.secret):
            assert word not in token

    def test_the_fingerprint_does_not_reveal_the_secret(self, contact):
        assert contact.secret not in tokens.fingerprint(contact)
        assert len(tokens.fingerprint(contact)) == 16


class TestFutureDated:
    """A token dated later than now was not issued by a server whose clock is right."""

    @pytest.mark.parametrize("purpose", ["manage", "cookie", "link", "unsubscribe", "confirm"])
    def test_a_token_from_the_future_is_invalid_not_expired(self, contact, purpose):
        submission = pending_submission(contact.email)
        with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
            token = issued(purpose, contact, submission)

        with pytest.raises(InvalidLink) as raised:
            future_decoders()[purpose](token)

        assert not isinstance(raised.value, LinkExpired)

    @pytest.mark.parametrize(
        ("ahead", "accepted"),
        [
            (timedelta(seconds=59), True),
            (tokens.CLOCK_SKEW, True),
            (tokens.CLOCK_SKEW + timedelta(seconds=2), False),
        ],
    )
    def test_a_small_clock_skew_is_allowed(self, contact, ahead, accepted):
        now = timezone.now()
        with time_machine.travel(now + ahead, tick=False):
            token = tokens.contact_token(contact)

        with time_machine.travel(now, tick=False):
            if accepted:
                assert tokens.contact_from_token(token) == contact
            else:
                with pytest.raises(InvalidLink):
                    tokens.contact_from_token(token)

    def test_a_future_token_is_accepted_once_its_time_comes(self, contact):
        now = timezone.now()
        with time_machine.travel(now + timedelta(hours=1), tick=False):
            token = tokens.contact_token(contact)

        with time_machine.travel(now + timedelta(hours=1, minutes=1), tick=False):
            assert tokens.contact_from_token(token) == contact

    def test_an_expired_confirmation_from_the_future_gives_no_submission(self, contact):
        submission = pending_submission(contact.email)
        with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
            token = tokens.confirmation_token(submission)

        with pytest.raises(InvalidLink):
            tokens.submission_from_token(token, expired_ok=True)


def future_decoders():
    return {**decoders(), "link": lambda token: tokens.contact_from_token(token, "link")}
