"""Every visitor page, and the form block on a site's page, as people see them in Chromium.

Each page is served under a strict Content-Security-Policy (no inline style or script) and
checked light and dark (the test site's dark theme: a dark body with light text), on a phone
and a desktop: the browser refuses nothing, the honeypot stays out of sight, nothing is wider
than a phone, and axe-core finds no serious or critical accessibility problem and no text
below WCAG AA contrast.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.visitor_pages import (
    axe_problems,
    csp_violations,
    honeypot_in_sight,
    look_at,
    serve_with_csp,
)
from tests.docs_examples import docs_example
from tests.factories import ContactFactory
from tests.link_fixtures import confirm_url, pending_submission, unsubscribe_url
from tests.visitor_helpers import form_page, form_value, manage_path
from wagtail_preferences.models import Contact, ContactStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ann@example.com"


@pytest.fixture(autouse=True)
def no_minimum_fill_time(settings):
    """A browser driven by a test fills a form in well under ``MIN_FILL_SECONDS``."""
    settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 0}


@pytest.fixture
def signup_page(products, trainings, promotions):
    products.description = "News about our products."
    products.save()
    return form_page(
        form_value(
            heading="Sign up for our news",
            intro="Choose what interests you.",
            preferences=[products, {"preference": trainings, "selected_by_default": True}],
            categories=[promotions],
        )
    )


@pytest.fixture
def contact(products, promotions):
    return ContactFactory(email=EMAIL, first_name="Ann", confirmed=True, preferences=[products])


def submit_signup(page, signup_page, email):
    page.goto(signup_page.url)
    form = page.get_by_role("region", name="Sign up for our news")
    form.get_by_label("Email address").fill(email)
    form.get_by_role("button", name="Subscribe").click()
    return form


def request_link(page, email=EMAIL):
    page.goto("/preferences/link/")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a link").click()


# How a visitor reaches each page: a function of the browser page and the test's fixtures,
# which leaves the page shown and returns a text the page must show.
def _form(page, fx):
    page.goto(fx.signup_page.url)
    return "Sign up for our news"


def _form_errors(page, fx):
    submit_signup(page, fx.signup_page, "not an address")
    return "There is a problem"


def _check_inbox(page, fx):
    submit_signup(page, fx.signup_page, EMAIL)
    return "Please check your inbox"


def _form_unavailable(page, fx):
    page.goto(fx.signup_page.url)
    fx.signup_page.unpublish()
    form = page.get_by_role("region", name="Sign up for our news")
    form.get_by_label("Email address").fill(EMAIL)
    form.get_by_role("button", name="Subscribe").click()
    return "This form is not available"


def _confirm(page, fx):
    page.goto(confirm_url(pending_submission(EMAIL, preferences=[fx.products])))
    return "Confirm your subscription"


def _confirmed(page, fx):
    submission = pending_submission(EMAIL)
    page.goto(confirm_url(submission))
    # Blocked (a bounce) between opening the link and pressing the button.
    Contact.objects.filter(pk=submission.contact_id).update(status=ContactStatus.BLOCKED)
    page.get_by_role("button", name="Confirm").click()
    return "We have received your confirmation"


def _confirm_expired(page, fx):
    submission = pending_submission(EMAIL)
    with time_machine.travel(timezone.now() - timedelta(days=8), tick=False):
        path = confirm_url(submission)
    page.goto(path)
    return "This confirmation link has expired"


def _manage(page, fx):
    page.goto(manage_path(fx.contact))
    page.get_by_role("button", name="Save my preferences").click()
    return "Your preferences are saved"


def _link_request(page, fx):
    page.goto("/preferences/link/")
    return "Enter your email address"


def _link_request_errors(page, fx):
    request_link(page, "not an address")
    return "There is a problem"


def _link_sent(page, fx):
    request_link(page)
    return "If this address is on our list"


def _link_expired(page, fx):
    with time_machine.travel(timezone.now() - timedelta(days=61), tick=False):
        path = manage_path(fx.contact)
    page.goto(path)
    return "This link has expired"


def _link_invalid(page, fx):
    page.goto("/preferences/manage/not-a-token/")
    return "This link is not valid"


def _unsubscribe(page, fx):
    page.goto(unsubscribe_url(fx.contact))
    return "You will no longer receive any of our marketing messages"


def _unsubscribed(page, fx):
    page.goto(unsubscribe_url(fx.contact))
    page.get_by_role("button", name="Unsubscribe from everything").click()
    return "You are unsubscribed"


def _rate_limited(page, fx):
    fx.settings.WAGTAIL_PREFERENCES = {
        "MIN_FILL_SECONDS": 0,
        "RATE_LIMITS": {"link_per_ip": "1/hour"},
    }
    request_link(page)
    request_link(page)
    return "Too many attempts"


def _forgotten(page, fx):
    page.goto(manage_path(fx.contact))
    page.get_by_role("button", name="Forget me on this browser").click()
    return "This browser no longer knows you"


PAGES = {
    "form": _form,
    "form-errors": _form_errors,
    "check-inbox": _check_inbox,
    "form-unavailable": _form_unavailable,
    "confirm": _confirm,
    "confirmed": _confirmed,
    "confirm-expired": _confirm_expired,
    "manage": _manage,
    "link-request": _link_request,
    "link-request-errors": _link_request_errors,
    "link-sent": _link_sent,
    "link-expired": _link_expired,
    "link-invalid": _link_invalid,
    "unsubscribe": _unsubscribe,
    "unsubscribed": _unsubscribed,
    "rate-limited": _rate_limited,
    "forgotten": _forgotten,
}


@pytest.fixture
def fx(settings, signup_page, contact, products):
    """What the ways to the pages use."""
    return SimpleNamespace(
        settings=settings, signup_page=signup_page, contact=contact, products=products
    )


@pytest.mark.parametrize("name", PAGES)
def test_a_visitor_page_under_a_strict_policy_light_and_dark(name, page, screenshot, fx):
    refused = serve_with_csp(page)

    shows = PAGES[name](page, fx)

    expect(page.locator("main")).to_contain_text(shows)
    assert look_at(page, screenshot, name) == {}
    assert csp_violations(page) == []
    assert refused == []


def test_the_policy_check_sees_what_the_browser_refuses(page, signup_page):
    refused = serve_with_csp(page)
    page.goto(signup_page.url)

    page.evaluate("document.body.setAttribute('style', 'outline: 1px solid red')")

    page.wait_for_function("window.cspViolations.length > 0")
    assert csp_violations(page) == ["style-src-attr inline"]
    assert any("style" in message for message in refused)


def test_the_documented_theme_colours_keep_every_text_readable(page, screenshot, fx):
    """The developer guide's example: brand colours, and lighter ones for a dark theme."""
    theme = docs_example("developer-guide.md", "css", "### Styles")
    for name in ("form-errors", "manage"):  # the manage page recognises the visitor
        expect(page.locator("main")).to_contain_text(PAGES[name](page, fx))
        page.wait_for_load_state("load")
        page.add_style_tag(content=theme)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            assert axe_problems(page) == [], (name, scheme)
            screenshot(page, f"visitor-look-themed-{name}-{scheme}")


def test_the_accessibility_check_sees_text_hard_to_read(page, signup_page):
    page.goto(signup_page.url)
    assert axe_problems(page) == []

    page.evaluate("document.querySelector('.wp-hint').style.color = '#bbb'")

    [problem] = axe_problems(page)
    assert problem.startswith("color-contrast (serious)")


def test_the_honeypot_check_sees_a_field_in_sight(page, signup_page):
    page.goto(signup_page.url)
    assert not honeypot_in_sight(page)

    # As when the stylesheet that hides it is not there.
    page.evaluate("document.querySelector('.wp-hp').style.position = 'static'")

    assert honeypot_in_sight(page)


@pytest.mark.parametrize("name", ["manage", "link-request"])
def test_on_a_base_template_without_a_head_block_the_pages_are_styled(
    name, page, screenshot, fx, settings
):
    settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 0, "BASE_TEMPLATE": "bare_base.html"}
    refused = serve_with_csp(page)

    PAGES[name](page, fx)

    expect(page.locator("header")).to_have_text("Bare site")
    assert look_at(page, screenshot, f"bare-{name}") == {}
    button = page.locator(".wp-button").first
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(29, 112, 184)"
    assert csp_violations(page) == []
    assert refused == []


def test_the_fallback_page_follows_the_visitors_colour_scheme(page, screenshot, fx, settings):
    settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 0, "BASE_TEMPLATE": "no/such/base.html"}
    refused = serve_with_csp(page)

    _link_request_errors(page, fx)

    assert look_at(page, screenshot, "fallback-link-request-errors") == {}
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(18, 18, 18)"
    assert csp_violations(page) == []
    assert refused == []
