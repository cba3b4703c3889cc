from functools import partial

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting

from ..conf import MANAGE_PAGE_PARTS, get_setting


def manage_page_default(part: str) -> bool:
    """A new site's setting for ``part``: ``WAGTAIL_PREFERENCES["MANAGE_PAGE"][part]``."""
    return get_setting("MANAGE_PAGE")[part]


def ask_reason_default() -> bool:
    """A new site's setting: ``WAGTAIL_PREFERENCES["ASK_UNSUBSCRIBE_REASON"]``."""
    return get_setting("ASK_UNSUBSCRIBE_REASON")


def tracking_default(kind: str) -> bool:
    """A new site's setting: ``WAGTAIL_PREFERENCES["TRACKING"][kind]``."""
    return get_setting("TRACKING")[kind]


def _shows(part: str, label, help_text=""):
    return models.BooleanField(
        label, default=partial(manage_page_default, part), help_text=help_text
    )


class PreferencePageSettings(BaseSiteSetting):
    """Which parts of the visitor's manage-preferences page a site shows."""

    show_channels = _shows(
        "channels",
        _("channels"),
        _("Visitors can turn each channel on or off (do not contact)."),
    )
    show_frequency = _shows(
        "frequency", _("frequency"), _("How many messages per day, week or month, per channel.")
    )
    show_pause = _shows("pause", _("pause"), _("A period without messages, per channel."))
    show_preferred_channel = _shows("preferred_channel", _("preferred channel"))
    show_categories = _shows("categories", _("categories"), _("Opt in to or out of each category."))
    show_preferences = _shows("preferences", _("preferences"), _("The public preferences."))
    show_segments = _shows(
        "segments",
        _("segments"),
        _("Public segments the visitor belongs to, which they may leave."),
    )
    show_on_unsubscribe = _shows(
        "on_unsubscribe",
        _("show preference settings on unsubscribe"),
        _(
            "An unsubscribe link opens the manage-preferences page, with the unsubscribe "
            "button on top, so that visitors may choose fewer messages instead. Off: it "
            "opens a short page that only asks to confirm."
        ),
    )
    ask_unsubscribe_reason = models.BooleanField(
        _("ask why visitors leave"),
        default=ask_reason_default,
        help_text=_(
            "After unsubscribing, visitors may say why (optional). The overview counts the answers."
        ),
    )
    track_opens = models.BooleanField(
        _("allow open tracking"),
        default=partial(tracking_default, "OPENS"),
        help_text=_(
            "Campaigns may record who opens their emails (a tiny image). Visitors may refuse "
            "it on their manage page."
        ),
    )
    track_clicks = models.BooleanField(
        _("allow click tracking"),
        default=partial(tracking_default, "CLICKS"),
        help_text=_(
            "Campaigns may record who clicks the links of their emails. Visitors may refuse "
            "it on their manage page."
        ),
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("show_channels"),
                FieldPanel("show_frequency"),
                FieldPanel("show_pause"),
                FieldPanel("show_preferred_channel"),
                FieldPanel("show_categories"),
                FieldPanel("show_preferences"),
                FieldPanel("show_segments"),
            ],
            heading=_("The manage-preferences page shows"),
        ),
        FieldPanel("show_on_unsubscribe"),
        FieldPanel("ask_unsubscribe_reason"),
        MultiFieldPanel(
            [FieldPanel("track_opens"), FieldPanel("track_clicks")],
            heading=_("Tracking"),
        ),
    ]

    class Meta:
        verbose_name = _("preference pages")

    def shows(self) -> dict[str, bool]:
        """The parts shown, by the names of ``WAGTAIL_PREFERENCES["MANAGE_PAGE"]``."""
        return {part: getattr(self, f"show_{part}") for part in MANAGE_PAGE_PARTS}
