"""Helpers for tests of what visitors do: pages with form blocks, and filling those forms.

``form_page(...)`` publishes a ``FormPage`` with one preference form (options as the block's
own); ``VisitorForm.of(client, page)`` reads a rendered form back from the page, as a
browser would, and ``.post(...)`` sends it to the app's endpoint.
"""

import json
import re
import time
from dataclasses import dataclass, field

from django.urls import reverse
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from tests.testapp.models import FormPage
from wagtail_preferences.models import (
    CategoryChoice,
    ConsentEvent,
    Contact,
    ContactChannel,
    ContactPreference,
    FormSubmission,
    SegmentInclusion,
    SegmentMember,
    SegmentOptOut,
)
from wagtail_preferences.visitors.forms import STARTED_SALT

SUBMIT_URL = "/preferences/forms/submit/"


def db_state() -> dict:
    """Everything a visitor's form or link could change, to compare before and after."""
    return {
        "contacts": list(
            Contact.objects.order_by("pk").values_list(
                "pk", "email", "first_name", "last_name", "phone", "status", "user_id", "secret"
            )
        ),
        "preferences": sorted(ContactPreference.objects.values_list("contact_id", "preference_id")),
        "categories": sorted(
            CategoryChoice.objects.values_list("contact_id", "category_id", "subscribed")
        ),
        "channels": sorted(
            ContactChannel.objects.values_list(
                "contact_id",
                "channel",
                "enabled",
                "frequency_count",
                "frequency_period",
                "pause_from",
                "pause_to",
                "is_preferred",
            )
        ),
        "members": sorted(SegmentMember.objects.values_list("segment_id", "contact_id")),
        "inclusions": sorted(SegmentInclusion.objects.values_list("segment_id", "contact_id")),
        "opt_outs": sorted(SegmentOptOut.objects.values_list("segment_id", "contact_id")),
        "submissions": sorted(
            FormSubmission.objects.values_list(
                "pk", "status", "confirmed_at", "confirmation_ip", "confirmation_emails_sent"
            )
        ),
        "events": ConsentEvent.objects.count(),
    }


def form_value(**options) -> dict:
    """The raw value of a preference form block: ``preferences`` as a list of Preference
    instances or of dicts ``{"preference": p, "selected_by_default": ..., "required": ...}``;
    ``categories``, ``ticked_categories`` and ``segments`` as lists of instances."""
    preferences = [
        item if isinstance(item, dict) else {"preference": item}
        for item in options.pop("preferences", [])
    ]

    def ids(items, flag=None):
        return [str(item["preference"].pk) for item in items if flag is None or item.get(flag)]

    def pks(name):
        return [str(item.pk) for item in options.pop(name, [])]

    value = {
        "mode": "opt_in",
        "heading": "Sign up",
        "intro": "",
        "first_name": "optional",
        "last_name": "optional",
        "phone": "hidden",
        "recognised": "update_form",
        "preferences": ids(preferences),
        "preselected_preferences": ids(preferences, "selected_by_default"),
        "required_preferences": ids(preferences, "required"),
        "categories": pks("categories"),
        "ticked_categories": pks("ticked_categories"),
        "segments": pks("segments"),
        "consent_text": "I agree to receive the emails I chose.",
        "button_label": "Subscribe",
        "success_message": "",
        "success_page": None,
        "double_opt_in": True,
    }
    unknown = set(options) - set(value)
    if unknown:
        raise TypeError(f"Unknown form options: {sorted(unknown)}")
    value.update(options)
    if isinstance(value["success_page"], Page):
        value["success_page"] = value["success_page"].pk
    return value


def site_root() -> Page:
    """The default site's root page, with the tree made first if a transactional test's
    flush removed what Wagtail's migrations made (the locale, the root, the site)."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        Locale.objects.get_or_create(language_code=get_supported_content_language_variant("en"))
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
        home = root.get_children().first() or root.add_child(
            instance=Page(title="Home", slug="home")
        )
        site = Site.objects.create(hostname="testserver", root_page=home, is_default_site=True)
    return site.root_page


def form_page(*forms: dict, title="Stay in touch", slug=None, body=None, **options) -> FormPage:
    """A published page with the given forms (``form_value`` dicts), or one built from
    ``options``. ``body`` replaces the whole raw StreamField data when given."""
    if body is None:
        forms = forms or (form_value(**options),)
        body = [{"type": "preference_form", "value": value} for value in forms]
    page = FormPage(title=title, slug=slug or re.sub(r"\W+", "-", title.lower()).strip("-"))
    page.body = json.dumps(body)
    site_root().add_child(instance=page)
    page.save_revision().publish()
    return FormPage.objects.get(pk=page.pk)


def block_keys(page) -> list[str]:
    """The keys of the page's preference form blocks, in page order."""
    from wagtail_preferences.blocks import PreferenceFormBlock
    from wagtail_preferences.blocks.location import iter_blocks

    return [key for key, _ in iter_blocks(page, PreferenceFormBlock)]


@dataclass
class VisitorForm:
    """One preference form as a page shows it: its hidden fields, prefix and input names."""

    client: object
    page: FormPage
    key: str
    prefix: str
    hidden: dict = field(default_factory=dict)
    inputs: list = field(default_factory=list)
    html: str = ""

    @classmethod
    def of(cls, client, page, index: int = 0) -> "VisitorForm":
        response = client.get(page.url)
        assert response.status_code == 200, response.status_code
        forms = re.findall(r'<form class="wp-form".*?</form>', response.content.decode(), re.S)
        html = forms[index]
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
        key = hidden["wagtail_preferences_block"]
        prefix = next(n.split("-")[0] for n in hidden if n.endswith("-started"))
        inputs = re.findall(r'name="([^"]+)"', html)
        return cls(client, page, key, prefix, hidden, inputs, html)

    def name(self, field_name: str) -> str:
        return f"{self.prefix}-{field_name}"

    def data(self, *, email="visitor@example.com", preferences=(), categories=(), **fields):
        """Form data as a browser sends it: ticked boxes only, the fill time as old as needed."""
        data = dict(self.hidden)
        data[self.name("started")] = started_long_ago()
        if email is not None:
            data[self.name("email")] = email
        for preference in preferences:
            data[self.name(f"preference-{preference.pk}")] = "on"
        for category in categories:
            data[self.name(f"category-{category.pk}")] = "on"
        for name, value in fields.items():
            data[self.name(name)] = value
        return data

    def post(self, client_options=None, **kwargs):
        """Send the form; ``client_options`` go to ``client.post`` (``{"secure": True}``)."""
        return self.client.post(SUBMIT_URL, self.data(**kwargs), **(client_options or {}))


def started_long_ago(seconds: float = 60) -> str:
    from django.core import signing

    return signing.dumps(time.time() - seconds, salt=STARTED_SALT)


def confirmation_path(message) -> str:
    """The path of the confirmation link in a confirmation email."""
    return re.search(r"https?://[^/\s]+(/preferences/confirm/[^\s/]+/)", message.body).group(1)


def manage_path(contact) -> str:
    from wagtail_preferences.identity import tokens

    return reverse("wagtail_preferences:manage", args=[tokens.contact_token(contact)])
