"""The forms visitors fill in: the opt-in / update form of a block, and asking for a link.

These forms only validate; what they change goes through ``services``. The manage page's
form lives in ``manage_form``.
"""

import hashlib
import time

from django import forms
from django.core import signing
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from .. import services
from ..conf import get_setting
from ..identity import resolvers
from ..identity.caching import mark_personalised
from ..models import (
    Category,
    CategoryChoice,
    Contact,
    ContactPreference,
    ContactStatus,
    LeavingReason,
    Preference,
    Segment,
)
from ..models.feedback import COMMENT_MAX_LENGTH

STARTED_SALT = "wagtail_preferences.form-started"
#: A form older than this is refused: its page has been open for a day.
STARTED_MAX_AGE = 24 * 3600

DETAIL_LABELS = {
    "first_name": (_("First name"), "given-name"),
    "last_name": (_("Last name"), "family-name"),
    "phone": (_("Phone"), "tel"),
}


class StrangerProofForm(forms.Form):
    """A form anyone may send: a honeypot field and a minimum time to fill it in.

    A bot that fills the honeypot gets the answer a person gets and changes nothing
    (``is_spam``); one that sends the form faster than ``MIN_FILL_SECONDS`` is asked to
    send it again, unless something else is wrong with it (that is what it is told then).
    A form a browser fills in at once (``checks_fill_time = False``) skips the minimum
    time: a person it autofills is not a bot.
    """

    checks_fill_time = True

    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    honeypot_fields = ("website",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = signing.dumps(time.time(), salt=STARTED_SALT)

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def clean(self):
        cleaned = super().clean()
        try:
            started = signing.loads(
                cleaned.get("started") or "", salt=STARTED_SALT, max_age=STARTED_MAX_AGE
            )
        except signing.BadSignature:
            # Shown again with a new fill time: with the refused one, sending again would fail.
            self.data = self.data.copy()
            self.data[self.add_prefix("started")] = self.fields["started"].initial
            raise forms.ValidationError(
                _("This form was open too long or was changed. Please send it again."),
                code="stale",
            ) from None
        if (
            self.checks_fill_time
            and not self.errors
            and time.time() - float(started) < get_setting("MIN_FILL_SECONDS")
        ):
            raise forms.ValidationError(
                _("That was quick! Please check your answers and send the form again."),
                code="too_fast",
            )
        return cleaned

    def visible_fields(self):
        return [f for f in super().visible_fields() if f.name not in self.honeypot_fields]

    def honeypot(self):
        return [self[name] for name in self.honeypot_fields]


def email_field() -> forms.EmailField:
    return forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def form_prefix(key: str) -> str:
    """A short prefix for a block's inputs, so that several forms on a page stay apart."""
    return "wp" + hashlib.sha256(key.encode()).hexdigest()[:8]


def _ids(values) -> list[int]:
    """The stored ids of a block's checkboxes, as numbers; anything else is left out."""
    return [int(value) for value in values if str(value).isdigit()]


def _subscribed(contact: Contact | None) -> bool:
    return contact is not None and contact.status == ContactStatus.CONFIRMED


class SubscriptionForm(StrangerProofForm):
    """The form of a ``PreferenceFormBlock``: built from what the editor offered, only that.

    With ``contact`` (an update form shown to a recognised visitor) it starts from the
    contact's current choices and the email address is theirs, not an input.
    """

    email = email_field()
    #: On an opt-in form, the confirmed subscriber the visitor was recognised as.
    subscriber: Contact | None = None

    def __init__(self, value, *args, contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.value = value
        self.contact = contact
        for name, (label, autocomplete) in DETAIL_LABELS.items():
            if value[name] != "hidden":
                self.fields[name] = forms.CharField(
                    label=label,
                    required=value[name] == "required",
                    max_length=32 if name == "phone" else 150,
                    widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
                )
        offered = set(value["preferences"])
        preselected = set(value["preselected_preferences"]) & offered
        must = set(value["required_preferences"]) & offered
        preferences = Preference.objects.filter(pk__in=_ids(offered), is_public=True)
        categories = Category.objects.filter(pk__in=_ids(value["categories"]))
        if contact is not None:
            # What the contact holds comes with the choices: one query each, not two.
            preferences = preferences.annotate(
                held=Exists(
                    ContactPreference.objects.filter(contact=contact, preference=OuterRef("pk"))
                )
            )
            categories = categories.annotate(
                opted_out=Exists(
                    CategoryChoice.objects.opt_outs().filter(
                        contact=contact, category=OuterRef("pk")
                    )
                )
            )
        self.preferences = {}
        for preference in preferences:
            name = f"preference-{preference.pk}"
            self.preferences[name] = preference
            self.fields[name] = forms.BooleanField(
                label=preference.name,
                help_text=preference.description,
                required=str(preference.pk) in must,
                initial=str(preference.pk) in preselected,
            )
        ticked = set(value["ticked_categories"])
        self.categories = {}
        for category in categories:
            name = f"category-{category.pk}"
            self.categories[name] = category
            self.fields[name] = forms.BooleanField(
                label=category.name,
                help_text=category.description,
                required=False,
                initial=str(category.pk) in ticked,
            )
        if contact is not None:
            self._start_from(contact)

    def _start_from(self, contact: Contact) -> None:
        self.fields["email"].disabled = True
        self.fields["email"].initial = contact.email
        for name in DETAIL_LABELS:
            if name in self.fields:
                self.fields[name].initial = getattr(contact, name)
        for name, preference in self.preferences.items():
            self.fields[name].initial = preference.held
        for name, category in self.categories.items():
            self.fields[name].initial = not category.opted_out

    @classmethod
    def for_block(cls, value, key: str, request, data=None) -> "SubscriptionForm":
        """The block's form for the visitor of ``request``.

        A recognised visitor gets an update form; on an opt-in form only a confirmed
        subscriber does, and only if the editor did not choose the "subscribed as" line.
        """
        contact = resolvers.current_contact(request)
        mark_personalised(request, private=contact is not None)
        subscriber = None
        if value["mode"] == "opt_in":
            subscriber = contact if _subscribed(contact) else None
            if subscriber is None or value["recognised"] == "line":
                contact = None
        form = cls(value, data=data, prefix=form_prefix(key), contact=contact)
        form.subscriber = subscriber
        return form

    @property
    def is_update(self) -> bool:
        return self.contact is not None

    @property
    def subscribed_line(self) -> bool:
        """Whether to show "You are subscribed as …" instead of the form."""
        return self.subscriber is not None and not self.is_update

    def masked_email(self) -> str:
        """The subscriber's address, enough to recognise it and not enough to learn it."""
        local, _at, domain = (self.subscriber.email if self.subscriber else "").partition("@")
        return f"{local[:1]}…@{domain}"

    def detail_fields(self):
        return [self[name] for name in ("email", *DETAIL_LABELS) if name in self.fields]

    def preference_fields(self):
        return [self[name] for name in self.preferences]

    def category_fields(self):
        return [self[name] for name in self.categories]

    def choices(self) -> dict:
        """What was offered and chosen, for ``services.record_submission``."""
        data = self.cleaned_data
        return services.choices_record(
            details={name: data[name] for name in DETAIL_LABELS if name in data},
            preferences={p: data[name] for name, p in self.preferences.items()},
            categories={c: data[name] for name, c in self.categories.items()},
            segments=Segment.objects.filter(pk__in=_ids(self.value["segments"])),
        )


class LinkRequestForm(StrangerProofForm):
    """ "Email me a link to manage my preferences".

    One field a browser may fill in by itself and send at once: no minimum time. The link
    goes only to the address's owner, and rate limits bound how often.
    """

    checks_fill_time = False
    email = email_field()


class UnsubscribeReasonForm(forms.Form):
    """ "Why are you leaving?", asked once the unsubscribe is done; answering is optional."""

    reason = forms.ChoiceField(
        label=_("Why are you leaving?"),
        choices=LeavingReason.choices,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything else you would like to tell us?"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
