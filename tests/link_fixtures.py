"""Shared fixtures and helpers of the tests of signed links: confirm, manage, unsubscribe.

Import the fixtures a module uses by name (``from tests.link_fixtures import pending_submission``).
"""

import re
from html.parser import HTMLParser

from django.urls import reverse
from wagtail.models import Site

from tests.visitor_helpers import site_root, started_long_ago
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    PreferencePageSettings,
)

#: Policies that never send a visitor page's address (and its token) to other sites.
PRIVATE_REFERRER_POLICIES = ("same-origin", "no-referrer")

CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def default_site() -> Site:
    site_root()
    return Site.objects.get(is_default_site=True)


def page_settings(site: Site | None = None, **shows: bool) -> PreferencePageSettings:
    """The site's ``PreferencePageSettings``, with ``show_<part>`` set from ``shows``."""
    settings = PreferencePageSettings.for_site(site or default_site())
    for part, value in shows.items():
        setattr(settings, f"show_{part}", value)
    settings.save()
    return settings


def without_csrf(response) -> str:
    return CSRF_INPUT.sub("", response.content.decode())


def link_request_data(email: str, **extra) -> dict:
    """What the "email me a link" form sends, filled in slowly enough."""
    return {"email": email, "started": started_long_ago(), "website": "", **extra}


def pending_submission(email="ann@example.com", *, preferences=(), categories=(), **details):
    """A double opt-in submission waiting for its confirmation, as a form records it."""
    return services.record_submission(
        email,
        services.choices_record(
            details=details,
            preferences=dict.fromkeys(preferences, True),
            categories=dict.fromkeys(categories, True),
        ),
        services.Origin(path=ChangePath.FORM, ip_address="198.51.100.7", wording="I agree."),
        form_label="Newsletter",
    )


def confirm_url(submission) -> str:
    return reverse("wagtail_preferences:confirm", args=[tokens.confirmation_token(submission)])


def unsubscribe_url(contact, scope=None) -> str:
    return reverse(
        "wagtail_preferences:unsubscribe", args=[tokens.unsubscribe_token(contact, scope)]
    )


def events_of(contact, **filters):
    return ConsentEvent.objects.filter(contact=contact, **filters)


class _FormReader(HTMLParser):
    """What a browser would send for a form as rendered: values, ticked boxes, selections."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._select = None
        self._first_option = None
        self._selected = False

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            elif kind not in ("submit", "button"):
                self._add(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self._add(self._select, value)
                self._selected = True

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._selected and self._first_option is not None:
                self._add(self._select, self._first_option)
            self._select = None


def form_fields(response, form_class="wp-manage") -> dict[str, list[str]]:
    """The data the page's form (found by its class) sends when its button is pressed."""
    html = response.content.decode()
    found = re.search(rf'<form class="[^"]*\b{form_class}\b[^"]*".*?</form>', html, re.S)
    assert found, f"no form of class {form_class!r} on the page"
    reader = _FormReader()
    reader.feed(found.group(0))
    reader.data.pop("csrfmiddlewaretoken", None)
    return reader.data
