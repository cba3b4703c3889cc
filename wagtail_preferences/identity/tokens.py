"""Signed, expiring tokens for the links the app emails and the cookie it sets.

A token carries a purpose, a contact's (or a submission's) id and a fingerprint of the
contact's secret: no email address, no name. It is signed with ``SECRET_KEY`` and a salt of
its own per purpose, so a token for one purpose is worthless for another, and rotating a
contact's secret (``Contact.rotate_secret``) revokes every token issued for it.

A token dated in the future is refused: it was not issued by a server whose clock is right.
Clocks of several servers may differ a little, so up to ``CLOCK_SKEW`` ahead is allowed.
"""

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from ..conf import get_setting
from ..exceptions import InvalidLink, LinkExpired
from ..models import Contact, EmailChange, FormSubmission, normalise_email

SALT = "wagtail_preferences.identity.tokens."
#: How far in the future a token's time may be and still be accepted.
CLOCK_SKEW = timedelta(seconds=60)

#: Purpose -> the setting holding how long its tokens work.
MAX_AGE_SETTINGS = {
    "confirm": "CONFIRMATION_LINK_MAX_AGE",
    "manage": "MANAGE_LINK_MAX_AGE",
    "unsubscribe": "UNSUBSCRIBE_LINK_MAX_AGE",
    "cookie": "IDENTITY_COOKIE_MAX_AGE",
    "link": "LINK_TOKEN_MAX_AGE",
    "email_change": "CONFIRMATION_LINK_MAX_AGE",
}


def fingerprint(contact: Contact) -> str:
    return hashlib.sha256(contact.secret.encode()).hexdigest()[:16]


def _dumps(purpose: str, payload: list) -> str:
    return signing.dumps(payload, salt=SALT + purpose, compress=True)


class _Signer(signing.TimestampSigner):
    """Django's timestamp signer, which accepts any age below ``max_age``, even a negative one."""

    def unsign(self, value, max_age=None):
        result = super().unsign(value, max_age=max_age)
        # Authentic now, so it reads "<payload>:<timestamp>:<signature>".
        timestamp = signing.b62_decode(value.rsplit(self.sep, 2)[1])
        if timestamp > time.time() + CLOCK_SKEW.total_seconds():
            raise signing.BadSignature("The token's time is in the future.")
        return result


def _unsign(purpose: str, token: str, max_age: timedelta | None = None):
    return _Signer(salt=SALT + purpose).unsign_object(
        token, serializer=signing.JSONSerializer, max_age=max_age
    )


def _loads(purpose: str, token: str) -> list:
    max_age: timedelta = get_setting(MAX_AGE_SETTINGS[purpose])
    try:
        payload = _unsign(purpose, token, max_age)
    except signing.SignatureExpired:
        raise LinkExpired(_loads_unchecked(purpose, token)) from None
    except signing.BadSignature:
        raise InvalidLink() from None
    if not isinstance(payload, list) or len(payload) < 2:
        raise InvalidLink()
    return payload


def _loads_unchecked(purpose: str, token: str) -> list | None:
    """The payload of a token whose signature is good but whose time is up."""
    try:
        return _unsign(purpose, token)
    except signing.BadSignature:
        return None


def _by_pk(pk) -> Contact | None:
    return Contact.objects.filter(pk=pk).first()


def _contact(payload: list, load=_by_pk) -> Contact:
    try:
        contact = load(payload[0])
    except (TypeError, ValueError):
        raise InvalidLink() from None
    if contact is None or not constant_time_compare(str(payload[1]), fingerprint(contact)):
        raise InvalidLink()
    return contact


def contact_token(contact: Contact, purpose: str = "manage", *, message_id: int | None = None):
    """A token that identifies ``contact``: for a manage link, a link in an email (``link``)
    or the identity cookie (``cookie``).

    A manage link from a message carries the message's id (``message_id``), so that the page
    shows the parts that message chose.
    """
    extra = [] if message_id is None else [message_id]
    return _dumps(purpose, [contact.pk, fingerprint(contact), *extra])


def contact_from_token(token: str, purpose: str = "manage", *, load=_by_pk) -> Contact:
    """The contact a ``contact_token`` names; ``InvalidLink`` or ``LinkExpired`` otherwise.

    ``load`` reads a contact by id (None if there is none).
    """
    return _contact(_loads(purpose, token), load)


def manage_link_from_token(token: str) -> tuple[Contact, int | None]:
    """The contact of a manage link, and the id of the message it came from (or None)."""
    payload = _loads("manage", token)
    contact = _contact(payload)
    message_id = payload[2] if len(payload) > 2 else None
    if message_id is not None and (isinstance(message_id, bool) or not isinstance(message_id, int)):
        raise InvalidLink()
    return contact, message_id


@dataclass(frozen=True)
class UnsubscribeScope:
    """What an unsubscribe link leaves: everything, or one category or preference."""

    kind: str = "all"  # "all", "category" or "preference"
    pk: int | None = None

    def __post_init__(self):
        if self.kind not in ("all", "category", "preference"):
            raise ValueError(f"Unknown unsubscribe scope {self.kind!r}.")
        if (self.kind == "all") != (self.pk is None):
            raise ValueError("A category or preference scope needs an id; 'all' takes none.")

    @classmethod
    def of(cls, interest=None) -> "UnsubscribeScope":
        """The scope of ``interest`` (a ``Category`` or ``Preference``), or everything."""
        if interest is None:
            return cls()
        return cls(interest._meta.model_name, interest.pk)


def unsubscribe_token(
    contact: Contact, scope: UnsubscribeScope | None = None, *, delivery_id: int | None = None
) -> str:
    """A token for an unsubscribe link; from a campaign's email it also names the delivery
    (``delivery_id``), so that the unsubscribe is recorded against that message."""
    scope = scope or UnsubscribeScope()
    extra = [] if delivery_id is None else [delivery_id]
    return _dumps("unsubscribe", [contact.pk, fingerprint(contact), scope.kind, scope.pk, *extra])


def unsubscribe_from_token(token: str) -> tuple[Contact, UnsubscribeScope]:
    return unsubscribe_link_from_token(token)[:2]


def unsubscribe_link_from_token(token: str) -> tuple[Contact, UnsubscribeScope, int | None]:
    """The contact and scope of an unsubscribe link, and the delivery it came in (or None:
    links made before deliveries were named, and links from elsewhere)."""
    payload = _loads("unsubscribe", token)
    contact = _contact(payload)
    delivery_id = payload[4] if len(payload) > 4 else None
    if delivery_id is not None and (
        isinstance(delivery_id, bool) or not isinstance(delivery_id, int)
    ):
        raise InvalidLink()
    try:
        return contact, UnsubscribeScope(*payload[2:4]), delivery_id
    except (TypeError, ValueError):
        raise InvalidLink() from None


def delivery_token(delivery_id: int) -> str:
    """A short token naming a delivery, for its tracked links and open pixel: the id and a
    truncated HMAC of it keyed with ``SECRET_KEY``. Cheap to make and check (no database,
    no timestamp); it names a message, not a person, and grants nothing but a redirect to a
    link that message holds."""
    return f"{delivery_id}-{_delivery_tag(delivery_id, settings.SECRET_KEY)}"


def delivery_from_token(token: str) -> int:
    """The delivery id a ``delivery_token`` names; ``InvalidLink`` if it is not authentic.

    Tokens made with a key of ``SECRET_KEY_FALLBACKS`` are accepted too, so rotating the
    key does not break the links of emails already sent.
    """
    pk, _dash, tag = token.partition("-")
    if not pk.isdigit() or len(pk) > 18 or len(tag) != DELIVERY_TAG_LENGTH:
        raise InvalidLink()
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    if not any(constant_time_compare(tag, _delivery_tag(int(pk), key)) for key in keys):
        raise InvalidLink()
    return int(pk)


#: Characters of a delivery token's HMAC (base64): 96 bits.
DELIVERY_TAG_LENGTH = 16


def _delivery_tag(delivery_id: int, key: str) -> str:
    digest = salted_hmac(SALT + "delivery", str(delivery_id), secret=key, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()).decode()[:DELIVERY_TAG_LENGTH]


def confirmation_token(submission: FormSubmission) -> str:
    return _dumps("confirm", [submission.pk, fingerprint(submission.contact)])


def submission_from_token(token: str, *, expired_ok: bool = False) -> FormSubmission:
    """The submission a confirmation token names, if the token is good and in time.

    An authentic token that is too old raises ``LinkExpired``, or with ``expired_ok`` still
    gives the submission, so that a new link can be sent for it.
    """
    try:
        payload = _loads("confirm", token)
    except LinkExpired as expired:
        if not expired_ok:
            raise
        payload = expired.payload
    return _submission(payload)


def _submission(payload: list | None) -> FormSubmission:
    try:
        submission = FormSubmission.objects.select_related("contact").get(pk=payload[0])
    except (FormSubmission.DoesNotExist, TypeError, ValueError, IndexError):
        raise InvalidLink() from None
    if not constant_time_compare(str(payload[1]), fingerprint(submission.contact)):
        raise InvalidLink()
    return submission


def _email_digest(contact: Contact, email: str) -> str:
    """An address, keyed with the contact's secret: it tells nothing to whoever sees it."""
    message = normalise_email(email).encode()
    return hmac.new(contact.secret.encode(), message, hashlib.sha256).hexdigest()[:16]


def email_change_token(contact: Contact, new_email: str) -> str:
    """A token that makes ``new_email`` (asked for, ``EmailChange``) the contact's address.

    It names the new and the current address by digests only, so it stops working once
    either changes: a newer request, or the address changed another way.
    """
    digests = [_email_digest(contact, new_email), _email_digest(contact, contact.email)]
    return _dumps("email_change", [contact.pk, fingerprint(contact), *digests])


def email_change_from_token(token: str) -> tuple[Contact, str]:
    """The contact and the new address an ``email_change_token`` confirms."""
    payload = _loads("email_change", token)
    contact = _contact(payload)
    change = EmailChange.objects.filter(contact=contact).first()
    if change is None or len(payload) != 4:
        raise InvalidLink()
    wanted = [_email_digest(contact, change.new_email), _email_digest(contact, contact.email)]
    if not all(constant_time_compare(str(a), b) for a, b in zip(payload[2:], wanted, strict=True)):
        raise InvalidLink()
    return contact, change.new_email
