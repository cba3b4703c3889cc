"""The visitor's own manage-preferences form: details, channels, categories, preferences,
segments.

It shows the parts the site's ``PreferencePageSettings`` allow and changes only those,
through the service layer, as the contact themselves (path "self_service"). The details
(name, phone, email address) are always shown; a new email address is only asked for
here, and changes once confirmed from it. Where the site allows open or click tracking,
the contact may refuse it here (``refuses_tracking``), a detail written to the consent log.
"""

import functools

from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import services
from ..channels.form_field import ChannelSettingsField, ChannelSettingsWidget
from ..channels.registry import get_channels
from ..models import (
    Category,
    CategoryChoice,
    ChangePath,
    Contact,
    Preference,
    PreferencePageSettings,
    Segment,
    SegmentMember,
    SegmentOptOut,
    normalise_email,
)
from .forms import DETAIL_LABELS

#: Manage-page parts -> the channel widget's groups.
CHANNEL_GROUPS = {
    "channels": "enabled",
    "frequency": "frequency",
    "pause": "pause",
    "preferred_channel": "preferred",
}

DateInput = functools.partial(forms.DateInput, format="%Y-%m-%d", attrs={"type": "date"})

#: The contact's details a visitor corrects themselves, besides their email address.
DETAILS = tuple(DETAIL_LABELS)
SECTIONS = ("channels", "categories", "preferences", "segments")
#: The page's field for each part of ``services.Choices`` it shows.
CHOICE_FIELDS = {
    "channels": "channels",
    "categories": "categories",
    "preferences": "preferences",
    "segments_opted_out": "segments",
}

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()./-]{2,30}$",
    _("Enter a phone number with digits, spaces, and + ( ) - only, such as +44 20 7946 0018."),
)


def _checkboxes(queryset, label):
    choose = _("Choose from the options shown.")
    return forms.ModelMultipleChoiceField(
        queryset=queryset,
        label=label,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages=dict.fromkeys(
            ("invalid_choice", "invalid_pk_value", "invalid_list"), choose
        ),
    )


def _detail(name: str, max_length: int, input_type: str = "text", **kwargs):
    label, autocomplete = DETAIL_LABELS[name]
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete, "type": input_type}),
        error_messages={"max_length": _("Enter at most %(limit_value)d characters.")},
        **kwargs,
    )


def asks_tracking(page_settings: PreferencePageSettings) -> bool:
    """Whether the manage page offers to refuse tracking: only where the site tracks."""
    return page_settings.track_opens or page_settings.track_clicks


class ShownField(forms.Field):
    """The ids of the choices a checkbox field showed, sent back with the form.

    Saving changes only those: a category created, or a segment joined, after the page was
    opened was not on it, so the visitor did not untick it.
    """

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> set[int]:
        return {int(v) for v in value or () if str(v).isdigit()}


class ManagePreferencesForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_(
            "If you change it, we email a link to the new address. Your address changes "
            "when you follow it."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address such as name@example.com."),
            "max_length": _("Enter at most %(limit_value)d characters."),
        },
    )
    first_name = _detail("first_name", 150)
    last_name = _detail("last_name", 150)
    phone = _detail("phone", 32, "tel")

    def __init__(
        self,
        contact: Contact,
        shows: dict[str, bool],
        *args,
        asks_tracking: bool = False,
        **kwargs,
    ):
        initial = {name: getattr(contact, name) for name in ("email", *DETAILS)}
        super().__init__(*args, initial=initial, **kwargs)
        self.contact = contact
        if asks_tracking:
            self.fields["refuses_tracking"] = forms.BooleanField(
                label=_("Don't track my opens and clicks"),
                help_text=_(
                    "We then do not record whether you open our emails or which of their "
                    "links you follow."
                ),
                required=False,
                initial=contact.refuses_tracking,
            )
        groups = [group for part, group in CHANNEL_GROUPS.items() if shows.get(part)]
        if groups:
            current = services.channel_settings(contact)
            self.current_channels = {
                key: current.get(key, services.ChannelSettings()) for key in get_channels()
            }
            self.fields["channels"] = ChannelSettingsField(
                label=_("How we contact you"),
                required=False,
                base=self.current_channels,
                initial=self.current_channels,
                widget=ChannelSettingsWidget(
                    date_widget=DateInput,
                    groups=groups,
                    template_name="wagtail_preferences/widgets/channel_settings_visitor.html",
                    unreachable={k for k, c in get_channels().items() if not c.reaches(contact)},
                ),
            )
        if shows.get("categories"):
            opted_out = set(
                CategoryChoice.objects.opt_outs()
                .filter(contact=contact)
                .values_list("category_id", flat=True)
            )
            self._offer(
                "categories",
                Category.objects.all(),
                _("Messages you receive"),
                lambda shown: [pk for pk in shown if pk not in opted_out],
            )
        if shows.get("preferences"):
            self._offer(
                "preferences",
                Preference.objects.filter(is_public=True),
                _("What interests you"),
                lambda shown: list(
                    contact.preference_holdings.values_list("preference_id", flat=True)
                ),
            )
        if shows.get("segments"):
            opted_out_of = SegmentOptOut.objects.filter(contact=contact).values("segment_id")
            member_of = SegmentMember.objects.filter(contact=contact).values("segment_id")
            self._offer(
                "segments",
                Segment.objects.filter(
                    Q(pk__in=member_of) | Q(pk__in=opted_out_of), is_public=True
                ),
                _("Lists you are on"),
                lambda shown: list(set(shown) - {row["segment_id"] for row in opted_out_of}),
            )

    def _offer(self, name: str, queryset, label, ticked) -> None:
        """Checkboxes for ``queryset`` (none if it is empty), ``ticked(shown pks)`` ticked.

        The page sends back which choices it showed, so that saving changes only those.
        """
        shown = list(queryset.values_list("pk", flat=True))
        if not shown:
            return
        self.fields[name] = _checkboxes(queryset, label)
        self.fields[name].initial = ticked(shown)
        self.fields[f"{name}_shown"] = ShownField(required=False, initial=shown)

    def _shown(self, name: str):
        """The choices of ``name`` both offered now and shown on the page that was sent."""
        return self.fields[name].queryset.filter(pk__in=self.cleaned_data[f"{name}_shown"])

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        # A number stored in another form (by an import, an editor) may be saved unchanged.
        if phone and phone != self.contact.phone:
            phone_validator(phone)
        return phone

    @property
    def new_email(self) -> str:
        """The address the visitor asks to move to, or ``""``."""
        email = normalise_email(self.cleaned_data["email"])
        return "" if email == self.contact.email else email

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.choices = self._choices()
            origin = services.Origin(path=ChangePath.SELF_SERVICE)
            for refusal in services.check_choices([self.choices], origin):
                self.add_error(CHOICE_FIELDS[refusal.field], refusal.message)
        return cleaned

    def _choices(self) -> services.Choices:
        """What the visitor changed among the choices the page showed them."""
        data = self.cleaned_data
        categories = preferences = segments = None
        if "categories" in data:
            shown = self._shown("categories")
            wanted = set(data["categories"]) & set(shown)
            was = set(shown.filter(pk__in=self["categories"].initial))
            categories = {c: c in wanted for c in wanted ^ was}
        if "preferences" in data:
            preferences = services.Choices.exactly(data["preferences"], self._shown("preferences"))
        if "segments" in data:
            shown = self._shown("segments")
            stays = set(data["segments"]) & set(shown)
            stayed = set(shown.filter(pk__in=self["segments"].initial))
            segments = {segment: segment not in stays for segment in stays ^ stayed}
        return services.Choices(
            preferences=preferences,
            categories=categories,
            channels=data.get("channels"),
            segments_opted_out=segments,
        )

    @transaction.atomic
    def save(self, origin: services.Origin) -> None:
        """Save the changes; a new email address is kept until it is confirmed."""
        contact, data = self.contact, self.cleaned_data
        services.lock_contact(contact)
        details = {name: data[name] for name in DETAILS}
        if "refuses_tracking" in data:
            details["refuses_tracking"] = data["refuses_tracking"]
        services.update_details(contact, details, origin)
        services.apply_choices(contact, self.choices, origin)
        if self.new_email:
            services.request_email_change(contact, self.new_email)

    def details(self):
        return [self[name] for name in ("email", *DETAILS)]

    def tracking(self):
        """The bound field to refuse tracking, or None where the site does not track."""
        return self["refuses_tracking"] if "refuses_tracking" in self.fields else None

    def sections(self):
        """The bound fields in page order, each a fieldset of the page."""
        return [self[name] for name in SECTIONS if name in self.fields]

    def error_links(self) -> list[tuple[str, str]]:
        """``(id, text)`` of every error, in page order: the error summary's links."""
        links = []
        tracking = [self.tracking()] if self.tracking() else []
        for field in [*self.details(), *self.sections(), *tracking]:
            if field.name == "channels" and field.errors:
                links += [
                    (self._channel_input_id(where), text)
                    for where, text in field.field.error_texts()
                ]
                continue
            links += [(field.auto_id, f"{field.label}: {error}") for error in field.errors]
        return links

    def _channel_input_id(self, where: str) -> str:
        if where == "preferred":
            first = next(iter(self.fields["channels"].widget.reachable_channels()), "none")
            return f"id_channels-preferred_{first}"
        return f"id_channels-{where}"
