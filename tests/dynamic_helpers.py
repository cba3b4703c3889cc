"""Helpers for tests of dynamic content: raw block values, pages holding them, visitors.

``condition(...)`` is the raw value of a condition block; ``dynamic(...)`` and
``variants(...)`` wrap paragraphs whose text says which part was shown; ``visitor(client,
contact)`` makes the test client's browser recognised as ``contact``.
"""

import re

from tests.visitor_helpers import form_page
from wagtail_preferences.conf import get_setting
from wagtail_preferences.identity import tokens


def condition(rule="any", preferences=(), category=None, segment=None) -> dict:
    return {
        "rule": rule,
        "preferences": [str(p.pk) for p in preferences],
        "category": str(category.pk) if category else "",
        "segment": str(segment.pk) if segment else "",
    }


def section(text: str | None) -> list:
    """A section stream holding one paragraph ``<p>text</p>``, or nothing."""
    if text is None:
        return []
    return [{"type": "paragraph", "value": f"<p>{text}</p>"}]


def dynamic(content="MATCHED", fallback="FALLBACK", **condition_options) -> dict:
    return {
        "type": "dynamic",
        "value": {
            "condition": condition(**condition_options),
            "content": section(content),
            "fallback": section(fallback),
        },
    }


def variants(*options: tuple[dict, str], default="DEFAULT") -> dict:
    """A first-match block: ``options`` are (condition value, text) pairs."""
    return {
        "type": "variants",
        "value": {
            "variants": [{"condition": value, "content": section(text)} for value, text in options],
            "default": section(default),
        },
    }


def dynamic_page(*blocks: dict, title="Offers", **options):
    return form_page(body=list(blocks), title=title, **options)


def visitor(client, contact):
    """Make ``client`` a browser that the site recognises as ``contact``."""
    client.cookies[get_setting("IDENTITY_COOKIE_NAME")] = tokens.contact_token(
        contact, purpose="cookie"
    )
    return client


def shown(response) -> list[str]:
    """The paragraph texts the page showed, in order."""
    return re.findall(r"<p>([A-Z0-9_ -]+)</p>", response.content.decode())
