"""A campaign's report: what became of its messages, its links' clicks, the same over time,
and all of it as a CSV file."""

from django.http import HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View

from ...messaging import campaign_reports
from ...models import Campaign
from ...transfers.spreadsheets import csv_lines
from ..charts import LineChart, Series
from ..permissions import can_see_campaigns
from .campaign_pages import CampaignPage, url

#: The figures of a report, in order: (name, label, the rate shown beside it).
FIGURES = [
    ("sent", _("Sent"), None),
    ("delivered", _("Delivered"), "delivered_rate"),
    ("hard_bounces", _("Hard bounces"), None),
    ("soft_bounces", _("Soft bounces"), None),
    ("bounces", _("Bounces, hard and soft"), "bounce_rate"),
    ("complaints", _("Complaints (marked as spam)"), "complaint_rate"),
    ("unsubscribes", _("Unsubscribed"), "unsubscribe_rate"),
    ("human_opens", _("Opened by a person"), "open_rate"),
    ("machine_opens", _("Opened by machines only"), None),
    ("unique_clicks", _("Clicked by a person"), "click_rate"),
]
#: What to do when a rate crosses its threshold.
ADVICE = {
    "complaint_rate": _(
        "Too many people marked this campaign as spam. Send only to people who asked for "
        "these messages, say who you are in the sender and the subject, and make "
        "unsubscribing easy. From %(limit)s, Gmail and Yahoo refuse or junk your mail."
    ),
    "bounce_rate": _(
        "Too many addresses bounced. The audience may hold old or mistyped addresses: check "
        "where they came from, and remove those that bounce hard (they are blocked already)."
    ),
}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{number_format(rate * 100, 2)} %"


def figure_rows(summary: campaign_reports.Summary) -> list[dict]:
    rows = []
    for name, label, rate_name in FIGURES:
        rate = getattr(summary, rate_name) if rate_name else None
        threshold = campaign_reports.THRESHOLDS.get(rate_name)
        rows.append(
            {
                "name": name,
                "label": label,
                "rate_name": rate_name,
                "value": getattr(summary, name),
                "rate": percent(rate) if rate_name else "",
                "raw_rate": rate,
                "level": summary.level(rate_name) if rate_name else "ok",
                "warn": percent(threshold.warn) if threshold else "",
                "limit": percent(threshold.limit) if threshold and threshold.limit else "",
            }
        )
    return rows


def period_label(start, unit: str) -> str:
    local = timezone.localtime(start)
    day = f"{local.day} {date_format(local, 'M')}"
    return f"{day} {local:%H:%M}" if unit == "hour" else day


def chart_of(series: campaign_reports.TimeSeries, campaign: Campaign) -> LineChart:
    per = _("per hour") if series.unit == "hour" else _("per day")
    return LineChart(
        title=_("What happened %(per)s since sending started") % {"per": per},
        description=_(
            "Delivered messages, opens and clicks by people, and bounces of “%(name)s”, "
            "%(per)s; the table below holds the same figures."
        )
        % {"name": campaign.name, "per": per},
        labels=[period_label(start, series.unit) for start in series.starts],
        series=[
            Series(str(label), series.values[name])
            for name, label in campaign_reports.SERIES.items()
        ],
    )


class CampaignReportView(CampaignPage, TemplateView):
    """A campaign's figures, their rates against the thresholds, the chart and the links:
    a fixed number of queries."""

    template_name = "wagtail_preferences/admin/campaigns/report.html"

    def get_page_title(self):
        return _("Report of “%(name)s”") % {"name": self.campaign.name}

    def get_context_data(self, **kwargs):
        campaign = self.campaign
        summary = campaign_reports.summaries([campaign.pk])[campaign.pk]
        figures = figure_rows(summary)
        series = campaign_reports.time_series(campaign)
        return super().get_context_data(
            summary=summary,
            figures=figures,
            alerts=[
                (row, ADVICE[row["rate_name"]] % {"limit": row["limit"]})
                for row in figures
                if row["level"] != "ok"
            ],
            chart=chart_of(series, campaign) if series else None,
            period_label=_("Hour") if series and series.unit == "hour" else _("Day"),
            links=campaign_reports.links(campaign),
            links_limit=campaign_reports.LINKS_LISTED,
            csv_url=url("report_csv", campaign.pk),
            progress_url=url("progress", campaign.pk),
            **kwargs,
        )


def report_rows(campaign: Campaign) -> list[list[str]]:
    """The report as rows of a CSV file: the figures, then the links, then the series,
    each under a line naming its columns."""
    summary = campaign_reports.summaries([campaign.pk])[campaign.pk]
    rows = [
        [str(row["label"]), str(row["value"]), "" if row["raw_rate"] is None else row["rate"]]
        for row in figure_rows(summary)
    ]
    rows += [
        [],
        [str(_("Link")), str(_("People who clicked")), str(_("Clicks")), str(_("Machine clicks"))],
    ]
    rows += [
        [link.url, str(link.unique_clickers), str(link.human_clicks), str(link.machine_clicks)]
        for link in campaign_reports.links(campaign)
    ]
    series = campaign_reports.time_series(campaign)
    if series:
        rows += [[], [str(_("Period starting")), *map(str, campaign_reports.SERIES.values())]]
        rows += [
            [timezone.localtime(start).isoformat(), *map(str, values)]
            for start, values in series.rows()
        ]
    return rows


class CampaignReportCSVView(View):
    """The report as a CSV file, its cells made safe for spreadsheets. A plain 403 without
    the permission to see campaigns: this is a download, not a page."""

    def get(self, request, pk):
        if not can_see_campaigns(request.user):
            return HttpResponseForbidden()
        campaign = get_object_or_404(Campaign, pk=pk)
        header = [str(_("Figure")), str(_("Number")), str(_("Rate"))]
        response = HttpResponse(
            "".join(csv_lines(header, report_rows(campaign))),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"report-{campaign.slug}.csv"
        )
        return response
