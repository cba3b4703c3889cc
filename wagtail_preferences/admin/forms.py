from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from .. import services
from ..channels.form_field import ChannelSettingsField, ChannelSettingsWidget
from ..channels.registry import get_channels
from ..json_depth import MAX_DEPTH, BoundedJSONDecoder
from ..models import (
    Category,
    Contact,
    Preference,
    Segment,
    SegmentInclusion,
    SegmentOptOut,
    normalise_email,
)
from ..services.contacts import DETAIL_FIELDS

#: The contact form's segment fields and the rows they stand for.
SEGMENT_FIELDS = {"segments_added_by_hand": SegmentInclusion, "segments_opted_out": SegmentOptOut}


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
        fields = ["email", "first_name", "last_name", "phone", "locale", "status", "user", "data"]

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
            self.instance.category_choices.filter(subscribed=False).values_list(
                "category_id", flat=True
            )
        )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        for field, model in SEGMENT_FIELDS.items():
            if field not in cleaned:
                continue
            before = set() if self.instance._state.adding else self._segment_ids(model)
            chosen = {segment.pk: segment for segment in cleaned[field]}
            changed = Segment.objects.filter(pk__in=before ^ chosen.keys())
            for segment in changed:
                if problems := segment.criteria_problems():
                    self.add_error(
                        field,
                        _("“%(segment)s” cannot be evaluated until its criteria are fixed: %(why)s")
                        % {"segment": segment.name, "why": " ".join(problems)},
                    )
        return cleaned

    @transaction.atomic
    def save(self, commit=True):
        origin = self.origin
        details = {name: self.cleaned_data[name] for name in DETAIL_FIELDS}
        status = self.cleaned_data["status"]
        created = False
        if self.instance._state.adding:
            contact, created = services.get_or_create_contact(
                origin=origin, status=status, **details
            )
        else:
            # The form has already copied the new values onto self.instance; the service
            # needs the stored ones to tell what changed.
            contact = Contact.objects.get(pk=self.instance.pk)
        if not created:
            services.update_details(contact, details, origin)
            if services.set_status(contact, status, origin):
                contact.refresh_from_db(fields=["status"])
        services.set_preferences(contact, self.cleaned_data["preferences"], origin)
        opted_out = {category.pk for category in self.cleaned_data["opted_out_categories"]}
        opted_out_before = set(self._opted_out_ids()) if not created else set()
        services.set_category_choices(
            contact,
            {
                category: category.pk not in opted_out
                for category in Category.objects.filter(pk__in=opted_out ^ opted_out_before)
            },
            origin,
        )
        services.update_channels(contact, self.cleaned_data["channels"], origin)
        self._save_segments(contact, created, origin)
        self.instance = contact
        return contact

    def _save_segments(self, contact, created: bool, origin) -> None:
        changes = {
            "segments_added_by_hand": (services.add_to_segment, services.remove_from_segment),
            "segments_opted_out": (services.opt_out_of_segment, services.opt_in_to_segment),
        }
        for field, (join, leave) in changes.items():
            model = SEGMENT_FIELDS[field]
            wanted = {segment.pk: segment for segment in self.cleaned_data[field]}
            before = set() if created else self._segment_ids(model)
            for pk in wanted.keys() - before:
                join(contact, wanted[pk], origin)
            for segment in Segment.objects.filter(pk__in=before - wanted.keys()):
                leave(contact, segment, origin)
