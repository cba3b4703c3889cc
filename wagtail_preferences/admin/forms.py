from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from .. import services
from ..channels.form_field import ChannelSettingsField, ChannelSettingsWidget
from ..channels.registry import get_channels
from ..conf import MANAGE_PAGE_PARTS
from ..json_depth import MAX_DEPTH, BoundedJSONDecoder
from ..models import (
    Category,
    CategoryChoice,
    Contact,
    Preference,
    PreferencePageSettings,
    Segment,
    SegmentInclusion,
    SegmentOptOut,
    normalise_email,
)
from ..services.contacts import DETAIL_FIELDS

#: The contact form's segment fields and the rows they stand for.
SEGMENT_FIELDS = {"segments_added_by_hand": SegmentInclusion, "segments_opted_out": SegmentOptOut}
#: The contact form's field for each part of ``services.Choices``.
CHOICE_FIELDS = {
    "preferences": "preferences",
    "categories": "opted_out_categories",
    "channels": "channels",
    "segments_added_by_hand": "segments_added_by_hand",
    "segments_opted_out": "segments_opted_out",
    "status": "status",
}


def checkboxes(model, label, help_text=""):
    """An optional choice of any number of ``model`` rows, as checkboxes."""
    return forms.ModelMultipleChoiceField(
        label=label,
        help_text=help_text,
        queryset=model.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class ContactForm(WagtailAdminModelForm):
    """The admin's "personal edit" of a contact.

    It validates like any model form, but saving goes through the service layer, so every
    change lands in the contact's consent history with the admin user who made it. Views
    pass ``origin`` (a ``services.Origin``).
    """

    preferences = checkboxes(Preference, _("Preferences"))
    opted_out_categories = checkboxes(
        Category,
        _("Opted out of categories"),
        _("Contacts receive every category they have not opted out of."),
    )
    segments_added_by_hand = checkboxes(
        Segment,
        _("Added by hand to segments"),
        _("The contact is a member of these whatever their criteria say."),
    )
    segments_opted_out = checkboxes(
        Segment,
        _("Opted out of segments"),
        _("The contact stays out of these, even when they match."),
    )
    channels = ChannelSettingsField(
        label=_("Channels and frequency"),
        help_text=_(
            "Untick “Enabled” to mark a channel “do not contact”. A frequency limits how many "
            "messages the contact receives per period; a pause stops them between two dates. "
            "When a message exists for several channels, the preferred one is used."
        ),
        widget=ChannelSettingsWidget(date_widget=AdminDateInput),
        required=False,
    )

    class Meta:
        model = Contact
        fields = [
            "email",
            "first_name",
            "last_name",
            "phone",
            "locale",
            "status",
            "user",
            "data",
            "refuses_tracking",
        ]

    def __init__(self, *args, origin: services.Origin | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.origin = origin
        self.fields["data"].decoder = BoundedJSONDecoder
        self.fields["data"].error_messages["invalid"] = _(
            "Enter valid JSON, with objects and lists nested at most %(depth)s levels deep."
        ) % {"depth": MAX_DEPTH}
        current = services.channel_settings(self.instance) if self.instance.pk else {}
        self.initial.setdefault(
            "channels",
            {key: current.get(key, services.ChannelSettings()) for key in get_channels()},
        )
        if self.instance.pk:
            self.initial.setdefault(
                "preferences", list(self.instance.preferences.values_list("pk", flat=True))
            )
            self.initial.setdefault("opted_out_categories", self._opted_out_ids())
            self.initial.setdefault("segments_added_by_hand", self._segment_ids(SegmentInclusion))
            self.initial.setdefault("segments_opted_out", self._segment_ids(SegmentOptOut))

    def _segment_ids(self, model) -> set[int]:
        return set(model.objects.filter(contact=self.instance).values_list("segment_id", flat=True))

    def _opted_out_ids(self) -> list[int]:
        return list(
            CategoryChoice.objects.opt_outs()
            .filter(contact=self.instance)
            .values_list("category_id", flat=True)
        )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.choices = self._choices()
            for refusal in services.check_choices([self.choices], self.origin):
                self.add_error(CHOICE_FIELDS[refusal.field], refusal.message)
        return cleaned

    def _choices(self) -> services.Choices:
        """What the form changes of the contact's choices: what differs from the stored ones."""
        data = self.cleaned_data
        adding = self.instance._state.adding
        held = set() if adding else set(self.instance.preferences.values_list("pk", flat=True))
        opted_out = {category.pk for category in data["opted_out_categories"]}
        opted_out_before = set() if adding else set(self._opted_out_ids())
        segments = {}
        for field, model in SEGMENT_FIELDS.items():
            wanted = {segment.pk for segment in data[field]}
            before = set() if adding else self._segment_ids(model)
            segments[field] = {pk: pk in wanted for pk in wanted ^ before}
        chosen = {preference.pk for preference in data["preferences"]}
        return services.Choices(
            preferences={pk: pk in chosen for pk in chosen ^ held},
            categories={pk: pk not in opted_out for pk in opted_out ^ opted_out_before},
            channels=data["channels"],
            status=data["status"],
            **segments,
        )

    @transaction.atomic
    def save(self, commit=True):
        origin = self.origin
        details = {name: self.cleaned_data[name] for name in DETAIL_FIELDS}
        if self.instance._state.adding:
            contact, _created = services.get_or_create_contact(
                origin=origin, status=self.cleaned_data["status"], **details
            )
        else:
            # The form has already copied the new values onto self.instance; the service
            # needs the stored ones to tell what changed.
            contact = Contact.objects.get(pk=self.instance.pk)
            services.update_details(contact, details, origin)
        services.apply_choices(contact, self.choices, origin)
        self.instance = contact
        return contact


def manage_part_choices() -> list[tuple[str, str]]:
    """The parts of the manage page, named as in the site's preference page settings."""
    return [
        (part, PreferencePageSettings._meta.get_field(f"show_{part}").verbose_name)
        for part in MANAGE_PAGE_PARTS
    ]


class MessageForm(WagtailAdminModelForm):
    """A message's form: the manage page's parts as checkboxes, stored as a list."""

    manage_sections = forms.MultipleChoiceField(
        choices=manage_part_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("The “Manage your preferences” link shows"),
        help_text=_("None ticked: what the site's preference page settings show."),
    )
