from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from . import services
from .channels import channel_choices, get_channels
from .exceptions import InvalidChange
from .models import Category, Contact, FrequencyPeriod, Preference, normalise_email
from .services.contacts import DETAIL_FIELDS


class ContactForm(WagtailAdminModelForm):
    """The admin's "personal edit" of a contact.

    It validates like any model form, but saving goes through the service layer, so every
    change lands in the contact's consent history with the admin user who made it. Views
    pass ``origin`` (a ``services.Origin``).
    """

    CHANNEL_FIELD_NAMES = (
        "enabled",
        "frequency_count",
        "frequency_period",
        "pause_from",
        "pause_to",
    )

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
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"),
        required=False,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Contact
        fields = ["email", "first_name", "last_name", "phone", "locale", "status", "user", "data"]

    def __init__(self, *args, origin: services.Origin | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.origin = origin
        self.fields["preferred_channel"].choices = [("", _("No preference")), *channel_choices()]
        current = services.channel_settings(self.instance) if self.instance.pk else {}
        for key in get_channels():
            self._add_channel_fields(key, current.get(key, services.ChannelSettings()))
        if self.instance.pk:
            self.initial.setdefault(
                "preferences", list(self.instance.preferences.values_list("pk", flat=True))
            )
            self.initial.setdefault(
                "opted_out_categories",
                list(
                    self.instance.category_choices.filter(subscribed=False).values_list(
                        "category_id", flat=True
                    )
                ),
            )
            preferred = [key for key, s in current.items() if s.is_preferred]
            self.initial.setdefault("preferred_channel", preferred[0] if preferred else "")

    def _add_channel_fields(self, key: str, current: services.ChannelSettings) -> None:
        fields = {
            "enabled": forms.BooleanField(
                label=_("Enabled"), required=False, initial=current.enabled
            ),
            "frequency_count": forms.IntegerField(
                label=_("Messages"),
                min_value=1,
                max_value=1000,
                required=False,
                initial=current.frequency_count,
            ),
            "frequency_period": forms.ChoiceField(
                label=_("Per"),
                choices=[("", "—"), *FrequencyPeriod.choices],
                required=False,
                initial=current.frequency_period,
            ),
            "pause_from": forms.DateField(
                label=_("Pause from"),
                widget=AdminDateInput,
                required=False,
                initial=current.pause_from,
            ),
            "pause_to": forms.DateField(
                label=_("Pause to"),
                widget=AdminDateInput,
                required=False,
                initial=current.pause_to,
            ),
        }
        for name, field in fields.items():
            self.fields[f"channel_{key}_{name}"] = field

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        for key, channel in get_channels().items():
            try:
                self.channel_settings(key)
            except InvalidChange as error:
                self.add_error(None, f"{channel}: {error}")
        return cleaned

    def channel_settings(self, key: str) -> services.ChannelSettings:
        values = {
            name: self.cleaned_data.get(f"channel_{key}_{name}")
            for name in self.CHANNEL_FIELD_NAMES
        }
        return services.ChannelSettings(
            enabled=bool(values["enabled"]),
            frequency_count=values["frequency_count"],
            frequency_period=values["frequency_period"] or "",
            pause_from=values["pause_from"],
            pause_to=values["pause_to"],
            is_preferred=self.cleaned_data.get("preferred_channel") == key,
        )

    @transaction.atomic
    def save(self, commit=True):
        origin = self.origin
        details = {
            name: self.cleaned_data[name] for name in DETAIL_FIELDS if name in self.cleaned_data
        }
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
        opted_out = set(self.cleaned_data["opted_out_categories"])
        opted_out_before = set(
            contact.category_choices.filter(subscribed=False).values_list("category_id", flat=True)
        )
        services.set_category_choices(
            contact,
            {
                category: category not in opted_out
                for category in Category.objects.all()
                if (category in opted_out) != (category.pk in opted_out_before)
            },
            origin,
        )
        services.update_channels(
            contact, {key: self.channel_settings(key) for key in get_channels()}, origin
        )
        self.instance = contact
        return contact
