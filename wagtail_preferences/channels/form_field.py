"""One form field for all of a contact's channel settings: a row of inputs per channel.

The value is a dict of channel key to ``services.ChannelSettings``. The admin's contact
form shows every part as a table; the visitor's manage page shows the parts its site
settings allow, and the parts it does not show keep the contact's stored values (``base``).
Channels in ``unreachable`` (the contact has no address there) show no inputs and keep
their stored values too.
"""

from dataclasses import replace

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..exceptions import InvalidChange
from ..models import FrequencyPeriod
from ..services import ChannelSettings
from .registry import get_channels

PREFERRED = "preferred"

#: What a form may show, and the inputs of each channel it takes (the preferred channel is
#: one choice for all channels, not an input per channel).
GROUPS = {
    "enabled": ("enabled",),
    "frequency": ("frequency_count", "frequency_period"),
    "pause": ("pause_from", "pause_to"),
    PREFERRED: (),
}

COUNT_MESSAGE = _("Enter a number of messages from 1 to 1000.")
DATE_MESSAGE = _("Enter a date as year-month-day, such as 2030-06-03.")
FREQUENCY_MESSAGE = _("A frequency needs both a number of messages and a period.")


def _part_fields() -> dict[str, forms.Field]:
    count_messages = dict.fromkeys(("invalid", "min_value", "max_value"), COUNT_MESSAGE)
    return {
        "enabled": forms.BooleanField(required=False),
        "frequency_count": forms.IntegerField(
            label=_("Messages"),
            min_value=1,
            max_value=1000,
            required=False,
            error_messages=count_messages,
        ),
        "frequency_period": forms.ChoiceField(
            label=_("Per"),
            choices=[("", "—"), *FrequencyPeriod.choices],
            required=False,
            error_messages={"invalid_choice": _("Choose a period from the list.")},
        ),
        "pause_from": forms.DateField(
            label=_("Pause from"), required=False, error_messages={"invalid": DATE_MESSAGE}
        ),
        "pause_to": forms.DateField(
            label=_("Pause to"), required=False, error_messages={"invalid": DATE_MESSAGE}
        ),
    }


PARTS = tuple(_part_fields())


def _parts_of(groups) -> tuple[str, ...]:
    return tuple(part for group in groups for part in GROUPS[group])


def _row_errors(parts: dict) -> dict[str, list[str]]:
    """The errors between a channel's valid inputs, by the input they are shown on."""
    errors = {}
    count, period = parts.get("frequency_count"), parts.get("frequency_period")
    if "frequency_count" in parts and "frequency_period" in parts and bool(count) != bool(period):
        errors["frequency_period" if count else "frequency_count"] = [FREQUENCY_MESSAGE]
    start, end = parts.get("pause_from"), parts.get("pause_to")
    if start and end and start > end:
        errors["pause_to"] = [_("A pause cannot end before it starts.")]
    return errors


class ChannelSettingsWidget(forms.Widget):
    """Renders the inputs of each registered channel; reads ``<name>-<key>-<part>`` inputs.

    ``groups`` are the things shown (keys of ``GROUPS``); ``template_name`` lays them out.
    ``errors`` (set by the field when it cleans) are shown on their inputs, by
    ``<key>-<part>`` (or ``preferred``).
    """

    template_name = "wagtail_preferences/widgets/channel_settings.html"

    def __init__(
        self,
        date_widget=forms.DateInput,
        groups=tuple(GROUPS),
        template_name=None,
        unreachable=frozenset(),
    ):
        super().__init__()
        self.date_widget = date_widget
        self.groups = tuple(groups)
        self.parts = _parts_of(self.groups)
        self.unreachable = frozenset(unreachable)
        self.errors: dict[str, list[str]] = {}
        if template_name:
            self.template_name = template_name

    @property
    def media(self):
        return self.date_widget().media

    def reachable_channels(self):
        return {k: c for k, c in get_channels().items() if k not in self.unreachable}

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
            for part in () if key in self.unreachable else self.parts:
                input_id = f"id_{name}-{key}-{part}"
                errors = self.errors.get(f"{key}-{part}", [])
                input_attrs = {"id": input_id}
                if errors:
                    input_attrs.update(
                        {"aria-invalid": "true", "aria-describedby": f"{input_id}-error"}
                    )
                parts[part] = {
                    "id": input_id,
                    "errors": errors,
                    "html": widgets[part].render(
                        f"{name}-{key}-{part}", values.get(part), input_attrs
                    ),
                }
            rows.append(
                {
                    "key": key,
                    "channel": channel,
                    "parts": parts,
                    "reachable": key not in self.unreachable,
                }
            )
        context["widget"].update(
            rows=rows,
            shows=dict.fromkeys(self.groups, True),
            preferred_name=f"{name}-{PREFERRED}",
            preferred=raw.get(PREFERRED) or "",
            preferred_errors=self.errors.get(PREFERRED, []),
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
            for key in self.reachable_channels()
        }
        if PREFERRED in self.groups:
            value[PREFERRED] = data.get(f"{name}-{PREFERRED}", "")
        return value

    def value_omitted_from_data(self, data, files, name):
        return False


class ChannelSettingsField(forms.Field):
    """The settings of every registered channel, as ``{key: ChannelSettings}``.

    ``base`` holds the settings the parts a form does not show are taken from (the
    contact's current ones); without it they take the defaults. Every error is found at
    once, and kept by input on the widget, which shows each on its own input.
    """

    widget = ChannelSettingsWidget

    def __init__(self, *args, base: dict[str, ChannelSettings] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.base = base or {}

    def to_python(self, value) -> dict[str, ChannelSettings]:
        value = value or {}
        channels = self.widget.reachable_channels()
        errors: dict[str, list[str]] = {}
        preferred = value.get(PREFERRED) or ""
        settings = {}
        for key in channels:
            parts, row_errors = self._clean_row(value.get(key, {}))
            if PREFERRED in self.widget.groups:
                parts["is_preferred"] = preferred == key
            if not row_errors:
                try:
                    settings[key] = replace(self.base.get(key, ChannelSettings()), **parts)
                except InvalidChange as error:  # a rule of the service layer's own
                    row_errors[(self.widget.parts or PARTS)[-1]] = [str(error)]
            errors.update(
                {f"{key}-{part}": row_errors[part] for part in sorted(row_errors, key=PARTS.index)}
            )
        if preferred and preferred not in channels:
            errors[PREFERRED] = [_("Choose a valid preferred channel.")]
        self.widget.errors = errors
        if errors:
            raise ValidationError([text for _where, text in self.error_texts()])
        return settings

    def _clean_row(self, raw: dict) -> tuple[dict, dict[str, list[str]]]:
        parts, errors = {}, {}
        for part, field in _part_fields().items():
            if part not in self.widget.parts:
                continue
            try:
                parts[part] = field.clean(raw.get(part))
            except ValidationError as error:
                errors[part] = error.messages
        return parts, {**_row_errors(parts), **errors}

    def error_texts(self):
        """``(input id suffix, text)`` of each error, the text naming its channel."""
        channels = get_channels()
        for where, messages in self.widget.errors.items():
            key = where.split("-")[0]
            for message in messages:
                if key in channels:
                    yield where, f"{channels[key].label}: {message}"
                else:
                    yield where, str(message)

    def prepare_value(self, value):
        return value

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (initial or {})
        except ValidationError:
            return True
