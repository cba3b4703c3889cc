from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from . import services
from .channel_settings_field import ChannelSettingsField, ChannelSettingsWidget
from .channels import get_channels
from .models import Category, Contact, Preference, normalise_email
from .services.contacts import DETAIL_FIELDS


class ContactForm(WagtailAdminModelForm):
    """The admin's "personal edit" of a contact.

    It validates like any model form, but saving goes through the service layer, so every
    change lands in the contact's consent history with the admin user who made it. Views
    pass ``origin`` (a ``services.Origin``).
    """

    preferences = forms.ModelMultipleChoiceField(
        label=_("Preferences"),
        queryset=Preference.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    opted_out_categories = forms.ModelMultipleChoiceField(
        label=_("Opted out of categories"),
        help_text=_("Contacts receive every category they have not opted out of."),
        queryset=Category.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
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

    def _opted_out_ids(self) -> list[int]:
        return list(
            self.instance.category_choices.filter(subscribed=False).values_list(
                "category_id", flat=True
            )
        )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

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
        self.instance = contact
        return contact
