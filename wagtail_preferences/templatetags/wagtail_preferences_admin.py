"""Template tags and filters of the preference center's admin pages."""

from django import template

from ..admin.consent_text import describe
from ..admin.views import campaign_reports

register = template.Library()


@register.filter
def consent_summary(event) -> str:
    """A consent event as one readable sentence, e.g. "Opted out of category “Promotions”"."""
    return describe(event)


@register.inclusion_tag("wagtail_preferences/admin/includes/line_chart.html")
def line_chart(chart, chart_id: str, period_label: str = ""):
    """``chart`` (an ``admin.charts.LineChart``) as an SVG drawing and a table; ``chart_id``
    must be unique on the page."""
    return {
        "chart": chart,
        "chart_id": chart_id,
        "period_label": period_label,
        "lines": chart.lines(),
        "x_ticks": chart.x_ticks(),
        "y_ticks": chart.y_ticks(),
        "rows": chart.rows(),
        "size": chart.size,
    }


@register.filter
def percent(rate) -> str:
    """A rate (0.0042) as a percentage ("0.42 %"); a dash for none."""
    return campaign_reports.percent(rate)


@register.filter
def rate_level(summary, rate_name: str) -> str:
    """How a campaign summary's rate compares with its threshold: "ok", "warning", "over"."""
    return summary.level(rate_name)
