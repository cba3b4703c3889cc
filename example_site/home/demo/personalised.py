"""Sections of the home page shown by preference, and demo visitors to see them as.

The home page gets a Dynamic content block per interest (Products, Newsletter; visitors
without the newsletter get a form to sign up for it) and a First matching variant block for
Events and Trainings. ``demo_visitors`` picks contacts who hold
different preferences, so that the links printed at the end of ``preferences_demo`` show
three versions of the same page.
"""

import json

from django.utils.html import escape

from wagtail_preferences.models import Contact, ContactStatus

from ..models import HomePage
from .pages import publish

SECTION_TYPES = {"dynamic", "variants"}


def condition(*preferences, rule="any") -> dict:
    return {
        "rule": rule,
        "preferences": [str(p.pk) for p in preferences],
        "category": "",
        "segment": "",
    }


def section(heading: str, *paragraphs: str) -> list[dict]:
    return [
        {"type": "heading", "value": heading},
        *({"type": "paragraph", "value": paragraph} for paragraph in paragraphs),
    ]


def _page_link(page, text: str) -> str:
    """A rich text link to ``page``, as Wagtail's editor stores it."""
    if page is None:
        return escape(text)
    return f'<a linktype="page" id="{page.pk}">{escape(text)}</a>'


def newsletter_form(preferences) -> dict:
    """A small opt-in form offering the newsletter alone (the other fields take defaults)."""
    newsletter = str(preferences["Newsletter"].pk)
    return {
        "mode": "opt_in",
        "recognised": "update_form",
        "first_name": "hidden",
        "last_name": "hidden",
        "preferences": [newsletter],
        "preselected_preferences": [newsletter],
        "button_label": "Send me the newsletter",
    }


def sections(preferences, signup_page, events_page) -> list[dict]:
    """Raw StreamField data for the dynamic sections of the home page."""
    signup = _page_link(signup_page, "Stay in touch")
    events = _page_link(events_page, "Trainings and events")
    return [
        {
            "type": "dynamic",
            "value": {
                "condition": condition(preferences["Products"]),
                "content": section(
                    "For our product fans",
                    "<p>Thank you for following our products. Version 5 is out: a new "
                    "<b>shared inbox</b>, faster search and a dark mode you asked for. Your "
                    "account team can switch it on for you today.</p>",
                ),
                "fallback": section(
                    "Be the first to hear about new products",
                    f"<p>Launches, new features and tips, a few times a year. Tick "
                    f"<i>Products</i> on our {signup} page.</p>",
                ),
            },
        },
        {
            "type": "dynamic",
            "value": {
                "condition": condition(preferences["Newsletter"]),
                "content": section(
                    "Thanks for reading our newsletter",
                    "<p>The next issue is on its way: three customer stories and the best of "
                    "the blog, in five minutes of reading.</p>",
                ),
                # Everyone else gets a one-box sign-up form; a subscriber it recognises sees
                # it with their address, and adds the newsletter to what they receive.
                "fallback": [
                    *section("Get our newsletter"),
                    {"type": "preference_form", "value": newsletter_form(preferences)},
                ],
            },
        },
        {
            "type": "variants",
            "value": {
                "variants": [
                    {
                        "condition": condition(preferences["Events"]),
                        "content": section(
                            "See you at our customer day",
                            "<p>You are on the list: the invitation to this year's customer "
                            "day comes soon, with the programme and a seat kept for you.</p>",
                        ),
                    },
                    {
                        "condition": condition(preferences["Trainings"]),
                        "content": section(
                            "New workshops this season",
                            "<p>Hands-on workshops for teams, online and in Brussels. "
                            f"Book a seat on {events}.</p>",
                        ),
                    },
                ],
                "default": section(
                    "Learn with us",
                    f"<p>Free webinars every month, workshops and a yearly customer day: see "
                    f"{events}.</p>",
                ),
            },
        },
    ]


def ensure_dynamic_sections(home, preferences, user) -> bool:
    """Add the dynamic sections to the home page, unless it has some already."""
    home = HomePage.objects.get(pk=home.pk)
    if any(block.block_type in SECTION_TYPES for block in home.body):
        return False
    children = home.get_children()
    raw = list(home.body.raw_data) + sections(
        preferences,
        children.filter(slug="stay-in-touch").first(),
        children.filter(slug="trainings-and-events").first(),
    )
    home.body = json.dumps([dict(block) for block in raw])
    publish(home, user)
    return True


#: Who to show the site as: (what they are, preferences held, preferences not held).
VISITORS = [
    ("a product fan", ["Products"], ["Events", "Trainings"]),
    ("an event goer", ["Events"], ["Products"]),
    ("a trainee", ["Trainings"], ["Products", "Events", "Newsletter"]),
]


def demo_visitors(preferences) -> list[tuple[str, Contact]]:
    """(description, contact) for confirmed contacts holding different preferences."""
    found = []
    for description, held, not_held in VISITORS:
        contacts = Contact.objects.filter(status=ContactStatus.CONFIRMED)
        for name in held:
            contacts = contacts.filter(preferences=preferences[name])
        contact = (
            contacts.exclude(preferences__in=[preferences[name] for name in not_held])
            .order_by("pk")
            .first()
        )
        if contact is not None:
            found.append((description, contact))
    return found
