"""One form field for all of a contact's channel settings: a row of inputs per channel.

The value is a dict of channel key to ``services.ChannelSettings``. The admin's contact
form shows every part as a table; the visitor's manage page shows the parts its site
settings allow, and the parts it does not show keep the contact's stored values (``base``).
"""

from dataclasses import replace

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .channels import get_channels
from .exceptions import InvalidChange
from .models import FrequencyPeriod
from .services import ChannelSettings

PREFERRED = "preferred"

#: What a form may show, and the inputs of each channel it takes (the preferred channel is
#: one choice for all channels, not an input per channel).
GROUPS = {
    "enabled": ("enabled",),
    "frequency": ("frequency_count", "frequency_period"),
    "pause": ("pause_from", "pause_to"),
    PREFERRED: (),
}


def _part_fields() -> dict[str, forms.Field]:
    return {
        "enabled": forms.BooleanField(required=False),
        "frequency_count": forms.IntegerField(
            label=_("Messages"), min_value=1, max_value=1000, required=False
        ),
        "frequency_period": forms.ChoiceField(
            label=_("Per"), choices=[("", "—"), *FrequencyPeriod.choices], required=False
        ),
        "pause_from": forms.DateField(label=_("Pause from"), required=False),
        "pause_to": forms.DateField(label=_("Pause to"), required=False),
    }


PARTS = tuple(_part_fields())


def _parts_of(groups) -> tuple[str, ...]:
    return tuple(part for group in groups for part in GROUPS[group])


class ChannelSettingsWidget(forms.Widget):
    """Renders the inputs of each registered channel; reads ``<name>-<key>-<part>`` inputs.

    ``groups`` are the things shown (keys of ``GROUPS``); ``template_name`` lays them out.
    """

    template_name = "wagtail_preferences/widgets/channel_settings.html"

    def __init__(self, date_widget=forms.DateInput, groups=tuple(GROUPS), template_name=None):
        super().__init__()
        self.date_widget = date_widget
        self.groups = tuple(groups)
        self.parts = _parts_of(self.groups)
        if template_name:
            self.template_name = template_name

    @property
    def media(self):
        return self.date_widget().media

    def _raw(self, value) -> dict:
        """The widget's data shape, from cleaned settings or from posted data."""
        if not value:
            value = {}
        if all(isinstance(v, ChannelSettings) for k, v in value.items() if k != PREFERRED):
            raw = {key: {part: getattr(s, part) for part in PARTS} for key, s in value.items()}
            preferred = [key for key, s in value.items() if s.is_preferred]
            raw[PREFERRED] = preferred[0] if preferred else ""
            return raw
        return value

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        raw = self._raw(value)
        widgets = {
            "enabled": forms.CheckboxInput(),
            "frequency_count": forms.NumberInput(attrs={"min": 1, "max": 1000}),
            "frequency_period": forms.Select(choices=_part_fields()["frequency_period"].choices),
            "pause_from": self.date_widget(),
            "pause_to": self.date_widget(),
        }
        rows = []
        for key, channel in get_channels().items():
            values = {**ChannelSettings().__dict__, **(raw.get(key) or {})}
            parts = {}
            for part in self.parts:
                input_name = f"{name}-{key}-{part}"
                parts[part] = {
                    "id": f"id_{input_name}",
                    "html": widgets[part].render(
                        input_name, values.get(part), attrs={"id": f"id_{input_name}"}
                    ),
                }
            rows.append({"key": key, "channel": channel, "parts": parts})
        context["widget"].update(
            rows=rows,
            shows=dict.fromkeys(self.groups, True),
            preferred_name=f"{name}-{PREFERRED}",
            preferred=raw.get(PREFERRED) or "",
        )
        return context

    def value_from_datadict(self, data, files, name):
        value = {
            key: {
                part: (
                    forms.CheckboxInput().value_from_datadict(data, files, f"{name}-{key}-enabled")
                    if part == "enabled"
                    else data.get(f"{name}-{key}-{part}", "")
                )
                for part in self.parts
            }
            for key in get_channels()
        }
        if PREFERRED in self.groups:
            value[PREFERRED] = data.get(f"{name}-{PREFERRED}", "")
        return value

    def value_omitted_from_data(self, data, files, name):
        return False


class ChannelSettingsField(forms.Field):
    """The settings of every registered channel, as ``{key: ChannelSettings}``.

    ``base`` holds the settings the parts a form does not show are taken from (the
    contact's current ones); without it they take the defaults.
    """

    widget = ChannelSettingsWidget

    def __init__(self, *args, base: dict[str, ChannelSettings] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base or {}

    def to_python(self, value) -> dict[str, ChannelSettings]:
        value = value or {}
        groups = self.widget.groups
        preferred = value.get(PREFERRED) or ""
        if preferred and preferred not in get_channels():
            raise ValidationError(_("Choose a valid preferred channel."), code="invalid_choice")
        settings, errors = {}, []
        for key, channel in get_channels().items():
            raw = value.get(key, {})
            parts = {}
            for part, field in _part_fields().items():
                if part not in self.widget.parts:
                    continue
                try:
                    parts[part] = field.clean(raw.get(part))
                except ValidationError as error:
                    errors += [f"{channel.label}, {field.label}: {m}" for m in error.messages]
            if len(parts) < len(self.widget.parts):
                continue
            if PREFERRED in groups:
                parts["is_preferred"] = preferred == key
            try:
                settings[key] = replace(self.base.get(key, ChannelSettings()), **parts)
            except InvalidChange as error:
                errors.append(f"{channel.label}: {error}")
        if errors:
            raise ValidationError(errors)
        return settings

    def prepare_value(self, value):
        return value

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or {})
        except ValidationError:
            return True
