"""The visitor's own manage-preferences form: channels, categories, preferences, segments.

It shows the parts the site's ``PreferencePageSettings`` allow and changes only those,
through the service layer, as the contact themselves (path "self_service").
"""

import functools

from django import forms
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from . import services
from .channel_settings_field import ChannelSettingsField, ChannelSettingsWidget
from .channels import get_channels
from .models import (
    Category,
    CategoryChoice,
    Contact,
    Preference,
    Segment,
    SegmentMember,
    SegmentOptOut,
)

#: Manage-page parts -> the channel widget's groups.
CHANNEL_GROUPS = {
    "channels": "enabled",
    "frequency": "frequency",
    "pause": "pause",
    "preferred_channel": "preferred",
}

DateInput = functools.partial(forms.DateInput, format="%Y-%m-%d", attrs={"type": "date"})


def _checkboxes(queryset, label):
    return forms.ModelMultipleChoiceField(
        queryset=queryset, label=label, required=False, widget=forms.CheckboxSelectMultiple
    )


class ShownField(forms.Field):
    """The ids of the choices a checkbox field showed, sent back with the form.

    Saving changes only those: a category created, or a segment joined, after the page was
    opened was not on it, so the visitor did not untick it.
    """

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> set[int]:
        return {int(v) for v in value or () if str(v).isdigit()}


class ManagePreferencesForm(forms.Form):
    def __init__(self, contact: Contact, shows: dict[str, bool], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
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
                ),
            )
        if shows.get("categories") and Category.objects.exists():
            opted_out = CategoryChoice.objects.filter(contact=contact, subscribed=False)
            self.fields["categories"] = _checkboxes(
                Category.objects.all(), _("Messages you receive")
            )
            self.fields["categories"].initial = list(
                Category.objects.exclude(pk__in=opted_out.values("category_id")).values_list(
                    "pk", flat=True
                )
            )
            self._send_back_shown("categories")
        if shows.get("preferences") and Preference.objects.filter(is_public=True).exists():
            self.fields["preferences"] = _checkboxes(
                Preference.objects.filter(is_public=True), _("What interests you")
            )
            self.fields["preferences"].initial = list(
                contact.preference_holdings.values_list("preference_id", flat=True)
            )
            self._send_back_shown("preferences")
        if shows.get("segments"):
            opted_out_of = SegmentOptOut.objects.filter(contact=contact).values("segment_id")
            member_of = SegmentMember.objects.filter(contact=contact).values("segment_id")
            segments = Segment.objects.filter(
                Q(pk__in=member_of) | Q(pk__in=opted_out_of), is_public=True
            )
            if segments.exists():
                self.fields["segments"] = _checkboxes(segments, _("Lists you are on"))
                self.fields["segments"].initial = list(
                    segments.exclude(pk__in=opted_out_of).values_list("pk", flat=True)
                )
                self._send_back_shown("segments")

    def _send_back_shown(self, name: str) -> None:
        pks = list(self.fields[name].queryset.values_list("pk", flat=True))
        self.fields[f"{name}_shown"] = ShownField(required=False, initial=pks)

    def _shown(self, name: str):
        """The choices of ``name`` both offered now and shown on the page that was sent."""
        return self.fields[name].queryset.filter(pk__in=self.cleaned_data[f"{name}_shown"])

    @transaction.atomic
    def save(self, origin: services.Origin) -> None:
        contact, data = self.contact, self.cleaned_data
        if "channels" in data:
            services.update_channels(contact, data["channels"], origin)
        if "categories" in data:
            shown = self._shown("categories")
            wanted = set(data["categories"]) & set(shown)
            was = set(shown.filter(pk__in=self["categories"].initial))
            services.set_category_choices(contact, {c: c in wanted for c in wanted ^ was}, origin)
        if "preferences" in data:
            services.set_preferences(
                contact, data["preferences"], origin, offered=self._shown("preferences")
            )
        if "segments" in data:
            shown = self._shown("segments")
            stays = set(data["segments"]) & set(shown)
            stayed = set(shown.filter(pk__in=self["segments"].initial))
            for segment in stayed - stays:
                services.opt_out_of_segment(contact, segment, origin)
            for segment in stays - stayed:
                services.opt_in_to_segment(contact, segment, origin)

    def sections(self):
        """The bound fields in page order, each a fieldset of the page."""
        return [
            self[name]
            for name in ("channels", "categories", "preferences", "segments")
            if name in self.fields
        ]
