from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateTimeInput

from ..channels.registry import channel_choices
from ..feedback import policy
from ..messaging import planning
from ..models import Campaign, EngagementKind, Preference, Segment
from .forms import checkboxes


class CampaignForm(WagtailAdminModelForm):
    """A campaign's message and audience. The audience needs at least one part, and
    criteria that can be evaluated."""

    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=channel_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=Campaign._meta.get_field("channels").help_text,
    )
    preferences = checkboxes(Preference, _("Preferences"))
    segments = checkboxes(Segment, _("Segments"), _("Members of any of these segments."))
    exclude_preferences = checkboxes(Preference, _("Except who holds"))
    exclude_segments = checkboxes(Segment, _("Except members of"))

    #: The tracking fields, by the kind of tracking each switches on.
    TRACKING_FIELDS = {EngagementKind.OPEN: "track_opens", EngagementKind.CLICK: "track_clicks"}
    NOT_ALLOWED = {
        EngagementKind.OPEN: _(
            "This site does not allow open tracking, so this has no effect. Administrators "
            "allow it in Settings → Preference pages."
        ),
        EngagementKind.CLICK: _(
            "This site does not allow click tracking, so this has no effect. Administrators "
            "allow it in Settings → Preference pages."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = policy.site_allows()
        for kind, name in self.TRACKING_FIELDS.items():
            if name in self.fields and kind not in allowed:
                self.fields[name].disabled = True
                self.fields[name].help_text = self.NOT_ALLOWED[kind]

    def clean(self):
        cleaned = super().clean()
        criteria = cleaned.get("criteria")
        if criteria is not None:
            for problem in planning.criteria_problems(Campaign(criteria=criteria)):
                self.add_error("criteria", problem)
        parts = ("preferences", "segments", "criteria")
        if all(name in cleaned and not cleaned[name] for name in parts):
            self.add_error(
                None,
                _("Choose who the campaign is for: preferences, segments or criteria."),
            )
        message = cleaned.get("message")
        if message and not planning.message_channels(message, cleaned.get("channels") or ()):
            self.add_error("channels", _("The message has nothing to send on the channels chosen."))
        return cleaned


class ScheduleForm(forms.Form):
    at = forms.DateTimeField(label=_("Send at"), widget=AdminDateTimeInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].help_text = _("In the site's time zone, %(zone)s.") % {
            "zone": timezone.get_current_timezone_name()
        }
