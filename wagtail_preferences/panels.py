from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from .conf import get_setting
from .models import ConsentEvent


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
            context["more"] = len(events) > limit and self.request.user.has_perm(
                "wagtail_preferences.view_consentevent"
            )
            return context
