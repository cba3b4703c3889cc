"""What several tests of the form endpoint need: a recognised browser, the answer's address."""

from wagtail_preferences.conf import get_setting
from wagtail_preferences.identity import tokens
from wagtail_preferences.visitors.forms import form_prefix


def recognise(client, contact):
    """This browser is recognised as ``contact``, as after a confirmed link."""
    client.cookies[get_setting("IDENTITY_COOKIE_NAME")] = tokens.contact_token(
        contact, purpose="cookie"
    )


def success_url(page, key, result):
    return f"{page.url}?wp-sent={key}&wp-result={result}#{form_prefix(key)}"
