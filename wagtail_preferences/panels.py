from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from .channels import get_channels
from .conf import get_setting
from .models import ConsentEvent


class ChannelSettingsPanel(Panel):
    """A table of the contact's channels: enabled, frequency, pause and preferred.

    Renders the ``channel_<key>_<setting>`` fields that ``ContactForm`` adds per channel.
    """

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_preferences/admin/panels/channel_settings.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["rows"] = [
                {
                    "channel": channel,
                    "fields": {
                        name: self.form[f"channel_{key}_{name}"]
                        for name in self.form.CHANNEL_FIELD_NAMES
                    },
                }
                for key, channel in get_channels().items()
            ]
            context["preferred"] = self.form["preferred_channel"]
            return context


class ConsentHistoryPanel(Panel):
    """The contact's latest consent events, newest first. Read-only."""

    def __init__(self, heading="", **kwargs):
        super().__init__(heading=heading or _("History"), **kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_preferences/admin/panels/consent_history.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            limit = get_setting("HISTORY_PANEL_LIMIT")
            events = []
            if self.instance.pk:
                events = list(
                    ConsentEvent.objects.filter(contact=self.instance).select_related("actor")[
                        : limit + 1
                    ]
                )
            context["events"] = events[:limit]
            context["more"] = len(events) > limit
            return context
