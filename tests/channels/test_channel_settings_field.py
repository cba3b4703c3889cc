"""The channel settings field: every error at once, each kept by its input."""

from django import forms

from wagtail_preferences.channels.form_field import ChannelSettingsField, ChannelSettingsWidget


class ChannelsForm(forms.Form):
    def __init__(self, *args, unreachable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"] = ChannelSettingsField(
            required=False, widget=ChannelSettingsWidget(unreachable=unreachable)
        )


def data(**values):
    base = {"channels-email-enabled": "on", "channels-sms-enabled": "on", "channels-preferred": ""}
    return {**base, **{f"channels-{k.replace('__', '-')}": v for k, v in values.items()}}


def test_every_error_of_every_channel_is_kept_by_its_input():
    form = ChannelsForm(
        data(
            email__frequency_count="0",
            email__pause_from="2030-06-07",
            email__pause_to="2030-06-01",
            sms__frequency_period="week",
            preferred="fax",
        )
    )

    assert not form.is_valid()
    assert form.fields["channels"].widget.errors == {
        "email-frequency_count": ["Enter a number of messages from 1 to 1000."],
        "email-pause_to": ["A pause cannot end before it starts."],
        "sms-frequency_count": ["A frequency needs both a number of messages and a period."],
        "preferred": ["Choose a valid preferred channel."],
    }
    assert form.errors["channels"] == [
        "Email: Enter a number of messages from 1 to 1000.",
        "Email: A pause cannot end before it starts.",
        "SMS: A frequency needs both a number of messages and a period.",
        "Choose a valid preferred channel.",
    ]


def test_the_admin_table_shows_each_error_in_its_cell():
    form = ChannelsForm(data(sms__pause_from="someday"))
    form.is_valid()

    html = str(form["channels"])

    cell = html.split('id="id_channels-sms-pause_from"')[1].split("</td>")[0]
    assert 'id="id_channels-sms-pause_from-error"' in cell
    assert "Enter a date as year-month-day, such as 2030-06-03." in cell
    assert 'aria-describedby="id_channels-sms-pause_from-error"' in html


def test_an_unreachable_channel_is_neither_read_nor_changed():
    form = ChannelsForm(data(sms__frequency_count="0", sms__enabled=""), unreachable={"sms"})

    assert form.is_valid(), form.errors
    assert set(form.cleaned_data["channels"]) == {"email"}
    assert "channels-sms-" not in str(form["channels"])
