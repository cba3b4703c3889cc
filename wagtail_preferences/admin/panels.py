from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel

from ..channels.registry import channel_choices
from ..conf import get_setting
from ..messaging.campaign_reports import engagement_by_delivery
from ..models import ConsentEvent, Delivery, SegmentInclusion, SegmentMember
from .permissions import can_see_campaigns, can_view_consent_log


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
            context["more"] = len(events) > limit and can_view_consent_log(self.request.user)
            return context


class DeliveryHistoryPanel(Panel):
    """The messages sent (or not) to the contact, newest first, with what became of each
    and the contact's opens and clicks: two queries. Read-only."""

    def __init__(self, heading="", **kwargs):
        super().__init__(heading=heading or _("Messages"), **kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_preferences/admin/panels/delivery_history.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            deliveries = []
            if self.instance.pk:
                deliveries = list(
                    Delivery.objects.filter(contact=self.instance)
                    .select_related("campaign__message")
                    .order_by(Coalesce("sent_at", "created_at").desc(), "-pk")[
                        : get_setting("HISTORY_PANEL_LIMIT")
                    ]
                )
            labels = dict(channel_choices())
            engagements = engagement_by_delivery([delivery.pk for delivery in deliveries])
            for delivery in deliveries:
                delivery.channel_label = labels.get(delivery.channel, delivery.channel)
                delivery.engagement = engagements[delivery.pk]
            context["deliveries"] = deliveries
            context["campaign_links"] = can_see_campaigns(self.request.user)
            return context


class SegmentMembershipPanel(Panel):
    """The segments the contact is in now, and why; read-only."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_preferences/admin/panels/segment_membership.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            if not self.instance.pk:
                context["memberships"] = []
                return context
            by_hand = set(
                SegmentInclusion.objects.filter(contact=self.instance).values_list(
                    "segment_id", flat=True
                )
            )
            context["memberships"] = [
                (membership, membership.segment_id in by_hand)
                for membership in SegmentMember.objects.filter(contact=self.instance)
                .select_related("segment")
                .order_by("segment__sort_order", "segment__name")
            ]
            return context
