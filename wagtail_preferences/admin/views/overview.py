from django.db.models import Count
from django.urls import path
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSet

from ...audience import growth
from ...conf import get_setting
from ...messaging import campaign_reports
from ...models import (
    Category,
    ConsentEvent,
    Contact,
    LeavingReason,
    Preference,
    UnsubscribeReason,
)
from ..charts import LineChart, Series
from ..permissions import (
    ANY_ACTION,
    can_see_campaigns,
    can_use_preference_center,
    can_view_consent_log,
    contact_policy,
)


class AdminPage(WagtailAdminTemplateMixin):
    """A page of the Preference center, under its breadcrumb."""

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]


def leaving_reason_counts() -> list[tuple[str, int]]:
    """Every reason to leave, with how many contacts gave it (their comments stay out)."""
    counts = dict(
        UnsubscribeReason.objects.order_by().values_list("reason").annotate(count=Count("pk"))
    )
    return [(label, counts.get(value, 0)) for value, label in LeavingReason.choices]


#: Campaigns listed under "Last campaigns".
LAST_CAMPAIGNS = 5


def growth_chart() -> LineChart:
    weeks = growth.new_contacts_per_week()
    return LineChart(
        title=_("New contacts per week"),
        description=_(
            "Contacts added in each of the last %(weeks)s weeks, by the week's Monday; the "
            "table below holds the same figures."
        )
        % {"weeks": len(weeks)},
        labels=[f"{monday.day} {date_format(monday, 'M')}" for monday, _n in weeks],
        series=[Series(str(_("New contacts")), [n for _monday, n in weeks])],
    )


class OverviewView(PermissionCheckedMixin, AdminPage, TemplateView):
    """Who holds what at a glance: the last campaigns, the audience and its growth,
    preference holders, category opt-outs, recent changes."""

    page_title = _("Preference center")
    header_icon = "tasks"
    template_name = "wagtail_preferences/admin/overview.html"
    any_permission_required = ANY_ACTION

    @property
    def permission_policy(self):
        return contact_policy()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["contact_count"] = Contact.objects.count()
        context["preferences"] = Preference.objects.with_contact_count()
        context["categories"] = Category.objects.with_opt_out_count()
        context["leaving_reasons"] = leaving_reason_counts()
        context["can_view_log"] = can_view_consent_log(self.request.user)
        context["contacts_by_status"] = growth.contacts_by_status()
        context["growth_chart"] = growth_chart()
        if can_see_campaigns(self.request.user):
            context["last_campaigns"] = campaign_reports.last_campaigns(LAST_CAMPAIGNS)
            context["complaint_threshold"] = campaign_reports.THRESHOLDS["complaint_rate"]
        context["recent_events"] = ConsentEvent.objects.select_related("contact")[
            : get_setting("OVERVIEW_RECENT_CHANGES")
        ]
        return context


class OverviewViewSet(ViewSet):
    name = "preference_center"
    url_prefix = "preference-center"
    icon = "tasks"
    menu_label = _("Overview")

    @property
    def menu_item_class(self):
        class OverviewMenuItem(super().menu_item_class):
            def is_shown(self, request):
                return can_use_preference_center(request.user)

        return OverviewMenuItem

    def get_urlpatterns(self):
        return [path("", OverviewView.as_view(), name="index")]
