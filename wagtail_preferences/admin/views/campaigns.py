"""The Preference center's campaigns: list them, choose their audience, review who receives
the message and why not, send or schedule it, and follow the sending."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import ButtonsColumnMixin, Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from ...channels.registry import get_channel
from ...clock import local_time
from ...compat import listing_menu_item
from ...exceptions import IllegalTransition, InvalidChange
from ...messaging import campaigns, planning, reports
from ...models import Campaign, CampaignStatus, DeliveryStatus, FrequencyPeriod, SkipReason
from ..campaign_forms import CampaignForm, ScheduleForm
from ..permissions import can_see_campaigns, can_send_campaigns
from .campaign_pages import VIEWSET_NAME, CampaignPage, url
from .campaign_reports import CampaignReportCSVView, CampaignReportView
from .mixins import OffersViewPermission

#: Unknown deliveries listed on the progress page.
UNKNOWN_LISTED = 50
#: Campaigns whose sending is over: their progress page stops asking for news.
ENDED = (CampaignStatus.FINISHED, CampaignStatus.CANCELLED)
#: The statuses each progress button acts on.
PROGRESS_ACTIONS = {
    "pause": (CampaignStatus.SENDING,),
    "resume": (CampaignStatus.PAUSED,),
    "cancel": (CampaignStatus.SENDING, CampaignStatus.PAUSED),
}


def page_of(campaign: Campaign) -> str:
    """Where a campaign is looked at: its review while it may change, else its progress."""
    return url("review" if campaign.is_editable else "progress", campaign.pk)


class CampaignTitleColumn(ButtonsColumnMixin, TitleColumn):
    """The campaign's name, with the list's menu of what to do with it."""

    def __init__(self, name, *, list_buttons, **kwargs):
        super().__init__(name, **kwargs)
        self.list_buttons = list_buttons

    def get_buttons(self, instance, parent_context):
        return self.list_buttons(instance)


class CampaignStatusColumn(Column):
    cell_template_name = "wagtail_preferences/admin/campaigns/status_cell.html"

    class Media:
        css = {"all": ["wagtail_preferences/css/campaigns.css"]}


class DeliveryCountColumn(Column):
    """How many of the campaign's deliveries have one of ``statuses``; the counts of the
    listed page come in one query (``CampaignIndexView``)."""

    def __init__(self, name, *, statuses, **kwargs):
        super().__init__(name, **kwargs)
        self.statuses = statuses

    def get_value(self, instance):
        return f"{sum(instance.wp_counts[status] for status in self.statuses):,}"


def when(campaign: Campaign) -> str:
    if campaign.started_at:
        parts = [
            _("Started %(at)s") % {"at": local_time(campaign.started_at, "SHORT_DATETIME_FORMAT")}
        ]
        if campaign.finished_at:
            parts.append(
                _("ended %(at)s")
                % {"at": local_time(campaign.finished_at, "SHORT_DATETIME_FORMAT")}
            )
        return ", ".join(parts)
    if campaign.scheduled_at:
        return _("Scheduled for %(at)s") % {
            "at": local_time(campaign.scheduled_at, "SHORT_DATETIME_FORMAT")
        }
    return ""


class CampaignIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("message")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaigns_ = list(context["object_list"])
        counts = reports.status_counts([campaign.pk for campaign in campaigns_])
        for campaign in campaigns_:
            campaign.wp_counts = counts[campaign.pk]
        return context

    @cached_property
    def columns(self):
        # An explicit title column goes without the list's menu: this one carries it.
        name = CampaignTitleColumn(
            "name",
            label=_("Name"),
            get_url=page_of,
            sort_key="name",
            list_buttons=self.get_list_buttons,
        )
        return [name, *super().columns[1:]]

    def get_edit_url(self, instance):
        return super().get_edit_url(instance) if instance.is_editable else None

    def get_delete_url(self, instance):
        return super().get_delete_url(instance) if instance.is_editable else None

    def get_list_more_buttons(self, instance):
        label = _("Review and send") if instance.is_editable else _("Progress")
        report = []
        if instance.started_at:
            report = [
                listing_menu_item(
                    _("Report"), url("report", instance.pk), icon="doc-full", priority=6
                )
            ]
        return [
            listing_menu_item(label, page_of(instance), icon="mail", priority=5),
            *report,
            *super().get_list_more_buttons(instance),
        ]


class WhileEditable:
    """Views that change a campaign, open while it is a draft or scheduled; later they lead
    to its progress."""

    def dispatch(self, request, *args, **kwargs):
        campaign = self.get_object()
        if not campaign.is_editable:
            messages.warning(
                request,
                _("“%(name)s” is %(status)s: it can no longer be changed.")
                % {"name": campaign.name, "status": campaign.get_status_display().lower()},
            )
            return redirect(url("progress", campaign.pk))
        return super().dispatch(request, *args, **kwargs)


class CampaignCreateView(generic.CreateView):
    def save_instance(self):
        self.form.instance.created_by = self.request.user
        return super().save_instance()

    def get_success_url(self):
        return url("review", self.object.pk)


class CampaignEditView(WhileEditable, generic.EditView):
    def get_success_url(self):
        return url("review", self.object.pk)

    @cached_property
    def header_more_buttons(self):
        review = Button(
            _("Review and send"), url=url("review", self.object.pk), icon_name="mail", priority=5
        )
        return [review, *super().header_more_buttons]


class CampaignDeleteView(WhileEditable, generic.DeleteView):
    pass


def channel_label(key: str) -> str:
    return get_channel(key).label


class CampaignReviewView(CampaignPage, TemplateView):
    """Before sending: who of the audience receives the message on which channel, who waits
    and who does not, and why; send now or at a time."""

    template_name = "wagtail_preferences/admin/campaigns/review.html"

    def get_page_title(self):
        return _("Review “%(name)s”") % {"name": self.campaign.name}

    def get(self, request, *args, **kwargs):
        if not self.campaign.is_editable:
            return redirect(url("progress", self.campaign.pk))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        campaign = self.campaign
        context = super().get_context_data(
            edit_url=url("edit", campaign.pk),
            schedule_form=ScheduleForm(initial={"at": campaign.scheduled_at}),
            scheduled_at=local_time(campaign.scheduled_at),
            **{name: url(name, campaign.pk) for name in ("send", "schedule", "unschedule")},
            **kwargs,
        )
        try:
            breakdown = planning.breakdown(campaign)
        except InvalidChange as error:
            context["problem"] = str(error)
            return context
        context["breakdown"] = breakdown
        context["channels"] = [self.channel_rows(row) for row in breakdown.channels]
        return context

    def channel_rows(self, row: planning.ChannelBreakdown) -> dict:
        contacts_url = url("reason_contacts", self.campaign.pk)
        return {
            "label": channel_label(row.channel),
            "sending": row.sending,
            "waiting": [
                (
                    SkipReason(reason).label,
                    n,
                    f"{contacts_url}?channel={row.channel}&reason={reason}",
                )
                for reason, n in row.waiting.most_common()
            ],
            "skipped": [
                (
                    SkipReason(reason).label,
                    n,
                    f"{contacts_url}?channel={row.channel}&reason={reason}",
                )
                for reason, n in row.skipped.most_common()
            ],
        }


class ReasonContactsView(CampaignPage, TemplateView):
    """The first contacts of the audience whom one rule keeps from the message on one
    channel, with what they chose that the rule reads."""

    template_name = "wagtail_preferences/admin/campaigns/reason_contacts.html"

    def get_page_title(self):
        return _("%(reason)s (%(channel)s)") % {
            "reason": SkipReason(self.reason).label,
            "channel": channel_label(self.channel),
        }

    def get(self, request, *args, **kwargs):
        self.reason = request.GET.get("reason")
        self.channel = request.GET.get("channel")
        channels = planning.message_channels(self.campaign.message, self.campaign.channels)
        if self.reason not in SkipReason.values or self.channel not in channels:
            raise Http404
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        contacts = list(reports.contacts_for_reason(self.campaign, self.channel, self.reason))
        for contact in contacts:
            if contact.wp_frequency_count:
                contact.wp_limit = f"{contact.wp_frequency_count} " + str(
                    FrequencyPeriod(contact.wp_frequency_period).label
                )
        return super().get_context_data(
            contacts=contacts,
            limit=reports.REASON_LIST_SIZE,
            reason=self.reason,
            review_url=url("review", self.campaign.pk),
            **kwargs,
        )

    def get_breadcrumbs_items(self):
        items = super().get_breadcrumbs_items()
        review = {"url": url("review", self.campaign.pk), "label": self.campaign.name}
        return [*items[:-1], review, items[-1]]


class CampaignActionView(CampaignPage, TemplateView):
    """One status change, posted, through ``messaging.campaigns``; its refusal shows as an
    error message. Sending and cancelling are confirmed first (``GET``).

    Without the permission to send, a plain 403: these are posts and fetches, which the
    admin's usual redirect to the dashboard would only confuse.
    """

    action = ""
    template_name = "wagtail_preferences/admin/campaigns/confirm.html"
    confirmed = ("send", "cancel")

    def dispatch(self, request, *args, **kwargs):
        if not can_send_campaigns(request.user):
            return HttpResponseForbidden()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        if self.action not in self.confirmed:
            return self.http_method_not_allowed(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        titles = {
            "send": _("Send “%(name)s” now?"),
            "cancel": _("Cancel “%(name)s”?"),
        }
        return titles[self.action] % {"name": self.campaign.name}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(action=self.action, back_url=page_of(self.campaign))
        if self.action == "send":
            try:
                context["breakdown"] = planning.breakdown(self.campaign)
            except InvalidChange as error:
                context["problem"] = str(error)
        else:
            context["counts"] = reports.delivery_counts(self.campaign)
        return context

    def post(self, request, *args, **kwargs):
        campaign = self.campaign
        try:
            done = getattr(self, self.action)(campaign)
        except (IllegalTransition, InvalidChange) as error:
            messages.error(request, str(error))
            campaign.refresh_from_db()
        else:
            messages.success(request, done)
        return redirect(page_of(campaign))

    def send(self, campaign):
        campaigns.start(campaign)
        return _("Sending “%(name)s” has started.") % {"name": campaign.name}

    def schedule(self, campaign):
        form = ScheduleForm(self.request.POST)
        if not form.is_valid():
            raise InvalidChange(" ".join(form.errors["at"]))
        campaigns.schedule(campaign, form.cleaned_data["at"])
        return _("“%(name)s” will be sent on %(at)s.") % {
            "name": campaign.name,
            "at": local_time(campaign.scheduled_at),
        }

    def unschedule(self, campaign):
        campaigns.unschedule(campaign)
        return _("“%(name)s” is no longer scheduled: it is a draft again.") % {
            "name": campaign.name
        }

    def pause(self, campaign):
        campaigns.pause(campaign)
        return _("“%(name)s” is paused: no more messages go out until you resume it.") % {
            "name": campaign.name
        }

    def resume(self, campaign):
        campaigns.resume(campaign)
        return _("Sending “%(name)s” has resumed.") % {"name": campaign.name}

    def cancel(self, campaign):
        cancelled = campaigns.cancel(campaign)
        return _("“%(name)s” is cancelled: %(count)s messages not yet sent will not be.") % {
            "name": campaign.name,
            "count": f"{cancelled:,}",
        }


def progress_data(campaign: Campaign, counts: reports.DeliveryCounts) -> dict:
    """What the progress page shows and its script refreshes."""
    return {
        "status": campaign.status,
        "status_label": str(campaign.get_status_display()),
        "ended": campaign.status in ENDED,
        "counts": {status: counts.statuses[status] for status in DeliveryStatus.values},
        "skipped": {reason: counts.skipped[reason] for reason in SkipReason.values},
        "waiting": {reason: counts.waiting[reason] for reason in SkipReason.values},
        "total": counts.total,
        "sent_last_minute": counts.sent_last_minute,
        "per_second": round(counts.per_second, 1 if counts.per_second >= 1 else 2),
        "started_at": local_time(campaign.started_at),
        "finished_at": local_time(campaign.finished_at),
    }


class CampaignProgressView(CampaignPage, TemplateView):
    template_name = "wagtail_preferences/admin/campaigns/progress.html"

    def get_page_title(self):
        return _("Progress of “%(name)s”") % {"name": self.campaign.name}

    def get_context_data(self, **kwargs):
        campaign = self.campaign
        data = progress_data(campaign, reports.delivery_counts(campaign))
        unknown = campaign.deliveries.filter(status=DeliveryStatus.UNKNOWN)
        return super().get_context_data(
            data=data,
            statuses=[
                (value, label, data["counts"][value]) for value, label in DeliveryStatus.choices
            ],
            reasons=[
                (value, label, data["skipped"][value], data["waiting"][value])
                for value, label in SkipReason.choices
            ],
            unknown=unknown.select_related("contact").order_by("sent_at", "pk")[:UNKNOWN_LISTED],
            actions=[
                (action, url(action, campaign.pk), " ".join(statuses))
                for action, statuses in PROGRESS_ACTIONS.items()
            ],
            status_url=url("progress_data", campaign.pk),
            report_url=url("report", campaign.pk),
            **kwargs,
        )


class CampaignProgressDataView(View):
    """The progress page's figures as JSON: two queries, the campaign and its counts."""

    def get(self, request, pk):
        if not can_see_campaigns(request.user):
            return HttpResponseForbidden()
        campaign = get_object_or_404(Campaign, pk=pk)
        return JsonResponse(progress_data(campaign, reports.delivery_counts(campaign)))


class CampaignViewSet(OffersViewPermission, ModelViewSet):
    model = Campaign
    name = VIEWSET_NAME
    url_prefix = "preference-center/campaigns"
    icon = "mail"
    menu_label = _("Campaigns")
    index_view_class = CampaignIndexView
    add_view_class = CampaignCreateView
    edit_view_class = CampaignEditView
    delete_view_class = CampaignDeleteView
    copy_view_enabled = False
    list_filter = ["status"]
    search_fields = ["name"]
    search_backend_name = None
    list_display = [
        TitleColumn("name", label=_("Name"), get_url=page_of, sort_key="name"),
        Column("message", label=_("Message")),
        CampaignStatusColumn("status", label=_("Status"), accessor="get_status_display"),
        DeliveryCountColumn("sent", label=_("Sent"), statuses=[DeliveryStatus.SENT]),
        DeliveryCountColumn("to_do", label=_("To send"), statuses=reports.TO_DO),
        DeliveryCountColumn("skipped", label=_("Not sent"), statuses=[DeliveryStatus.SKIPPED]),
        DeliveryCountColumn("failed", label=_("Failed"), statuses=[DeliveryStatus.FAILED]),
        DeliveryCountColumn("unknown", label=_("Unknown"), statuses=[DeliveryStatus.UNKNOWN]),
        Column("when", label=_("When"), accessor=when),
    ]
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("name"),
                    FieldPanel("slug"),
                    FieldPanel("message"),
                    FieldPanel("channels"),
                ],
                heading=_("Message"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("match", widget=forms.RadioSelect),
                    FieldPanel("preferences"),
                    FieldPanel("preference_rule", widget=forms.RadioSelect),
                    FieldPanel("segments"),
                    FieldPanel("criteria"),
                ],
                heading=_("Audience"),
            ),
            MultiFieldPanel(
                [FieldPanel("exclude_preferences"), FieldPanel("exclude_segments")],
                heading=_("Exclusions"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("when_paused", widget=forms.RadioSelect),
                    FieldPanel("when_capped", widget=forms.RadioSelect),
                ],
                heading=_("Contacts who cannot take it yet"),
            ),
            MultiFieldPanel(
                [FieldPanel("track_opens"), FieldPanel("track_clicks")],
                heading=_("Tracking"),
            ),
        ],
        base_form_class=CampaignForm,
    )

    def get_urlpatterns(self):
        actions = ("send", "schedule", "unschedule", *PROGRESS_ACTIONS)
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/review/", CampaignReviewView.as_view(), name="review"),
            path("<int:pk>/not-receiving/", ReasonContactsView.as_view(), name="reason_contacts"),
            path("<int:pk>/progress/", CampaignProgressView.as_view(), name="progress"),
            path(
                "<int:pk>/progress.json", CampaignProgressDataView.as_view(), name="progress_data"
            ),
            path("<int:pk>/report/", CampaignReportView.as_view(), name="report"),
            path("<int:pk>/report.csv", CampaignReportCSVView.as_view(), name="report_csv"),
            *(
                path(f"<int:pk>/{action}/", CampaignActionView.as_view(action=action), name=action)
                for action in actions
            ),
        ]
