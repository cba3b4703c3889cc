"""Dynamic content in Chromium: visitors recognised by a link see their own sections, and an
editor builds the blocks in Wagtail's page editor and previews the page as visitors.

Screenshots: ``dynamic-content-visitor-*`` (one per visitor), ``dynamic-content-editor``
(the collapsed blocks and their summaries) and ``preview-as-visitor``.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.dynamic_helpers import condition, dynamic, dynamic_page, variants
from tests.factories import ContactFactory, PreferenceFactory
from tests.testapp.models import FormPage
from tests.visitor_helpers import form_page
from wagtail_preferences.conf import get_setting
from wagtail_preferences.identity.resolvers import recognising_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRODUCT_FANS = "For our product fans: version 5 is out, with a shared inbox."
SIGN_UP = "Be the first to hear about new products: sign up for product news."
EVENTS = "See you at our customer day: your invitation is on its way."
TRAININGS = "New workshops this season: book a seat."
DEFAULT = "Learn with us: webinars, workshops and a yearly customer day."
ALL_SECTIONS = [PRODUCT_FANS, SIGN_UP, EVENTS, TRAININGS, DEFAULT]


def sections_page():
    products = PreferenceFactory(name="Products")
    events = PreferenceFactory(name="Events")
    trainings = PreferenceFactory(name="Trainings")
    page = dynamic_page(
        dynamic(PRODUCT_FANS, SIGN_UP, preferences=[products]),
        variants(
            (condition(preferences=[events]), EVENTS),
            (condition(preferences=[trainings]), TRAININGS),
            default=DEFAULT,
        ),
        title="What's new",
    )
    return page, products, events, trainings


def shown_sections(page) -> list[str]:
    main = page.locator("main")
    return [text for text in ALL_SECTIONS if main.get_by_text(text, exact=True).count()]


def test_visitors_recognised_by_a_link_see_their_own_sections(new_context, live_server, screenshot):
    what_is_new, products, events, trainings = sections_page()
    ann = ContactFactory(first_name="Ann", confirmed=True, preferences=[products])
    ben = ContactFactory(first_name="Ben", confirmed=True, preferences=[events, trainings])
    url = live_server.url + what_is_new.url
    cookie = get_setting("IDENTITY_COOKIE_NAME")

    seen = {}
    for name, contact, expected in [
        ("ann", ann, [PRODUCT_FANS, DEFAULT]),
        ("ben", ben, [SIGN_UP, EVENTS]),
    ]:
        page = new_context()
        page.goto(recognising_link(url, contact))
        # The link sets the identity cookie and leaves the token out of the address.
        expect(page).to_have_url(url)
        assert cookie in {c["name"] for c in page.context.cookies()}
        for text in expected:
            expect(page.get_by_text(text, exact=True)).to_be_visible()
        seen[name] = shown_sections(page)
        assert seen[name] == expected
        screenshot(page, f"dynamic-content-visitor-{name}")
        # Recognised from the cookie alone, on the next visit too.
        page.goto(what_is_new.url)
        assert shown_sections(page) == expected

    unknown = new_context()
    unknown.goto(what_is_new.url)
    expect(unknown.get_by_text(SIGN_UP, exact=True)).to_be_visible()
    expect(unknown.get_by_text(DEFAULT, exact=True)).to_be_visible()
    assert shown_sections(unknown) == [SIGN_UP, DEFAULT]
    assert not unknown.context.cookies()
    screenshot(unknown, "dynamic-content-visitor-unknown")

    # A forged token recognises nobody, and is dropped from the address all the same.
    forged = new_context()
    forged.goto(f"{url}?wpt=forged")
    expect(forged).to_have_url(url)
    assert shown_sections(forged) == [SIGN_UP, DEFAULT]


def add_block(page, container, name):
    """Click the last "Insert a block" button in ``container`` and choose ``name``."""
    settle(page)
    container.get_by_role("button", name="Insert a block").last.click()
    choice = page.get_by_role("option", name=name, exact=True)
    choice.click()
    expect(choice).to_be_hidden()
    settle(page)


def settle(page):
    """Wait for the editor's animations to end.

    A new block and its insert buttons slide into place (jQuery's ``slideDown``), moving the
    buttons below them; a click while they move can land beside the button it aimed at.
    """
    page.wait_for_function("() => !window.jQuery || jQuery(':animated').length === 0")


def fill_paragraph(page, stream, text):
    """Add a paragraph to the StreamBlock ``stream`` and type ``text`` into it."""
    add_block(page, stream, "Paragraph")
    editor = stream.locator(".Draftail-Editor [contenteditable=true]").last
    editor.click()
    editor.press_sequentially(text)
    expect(editor).to_have_text(text)
    # Draftail copies what was typed into the form's field a moment later.
    field = stream.locator("input[type=hidden][name$='-value']").last
    expect(field).to_have_value(re.compile(re.escape(text)))


def test_an_editor_builds_a_dynamic_block_and_previews_it_as_visitors(
    admin_page, wagtail_site, screenshot
):
    page = admin_page
    products = PreferenceFactory(name="Products")
    PreferenceFactory(name="Events")
    offers = form_page(body=[], title="Offers")

    page.goto(f"/admin/pages/{offers.pk}/edit/")
    add_block(page, page.locator("[data-contentpath=body]"), "Dynamic content")
    block = block_of_type(page, "Dynamic content")
    condition_part = block.locator("[data-contentpath=condition]")
    condition_part.get_by_label("Products").check()
    fill_paragraph(page, block.locator("[data-contentpath=content]"), "Welcome, product fan!")
    fill_paragraph(page, block.locator("[data-contentpath=fallback]"), "Sign up for news.")
    screenshot(page, "dynamic-content-editor-1-open")
    collapse(block)
    expect(heading_text(block)).to_have_text("Holds any of Products")

    add_block(page, page.locator("[data-contentpath=body]"), "First matching variant")
    first_match = block_of_type(page, "First matching variant")
    variant = first_match.locator("[data-contentpath=variants] [data-streamfield-child]").first
    variant.locator("[data-contentpath=condition]").get_by_label("Events").check()
    fill_paragraph(
        page, variant.locator("[data-contentpath=content]"), "See you at our customer day!"
    )
    collapse(first_match)
    expect(heading_text(first_match)).to_have_text("Holds any of Events")
    screenshot(page, "dynamic-content-editor")

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Page 'Offers' has been updated.")).to_be_visible()
    # The saved blocks come back with the same summary, and so does the condition's own
    # panel where the Wagtail version gives it one.
    saved = block_of_type(page, "Dynamic content")
    expect(heading_text(saved)).to_have_text("Holds any of Products")
    for title in saved.locator("[data-contentpath=condition] [data-panel-heading-text]").all():
        expect(title).to_have_text("Holds any of Products")
    [dynamic_block, variants_block] = (
        FormPage.objects.get(pk=offers.pk).get_latest_revision_as_object().body
    )
    assert dynamic_block.value["condition"]["preferences"] == [str(products.pk)]
    assert "Welcome, product fan!" in str(dynamic_block.value["content"])
    assert "See you at our customer day!" in str(variants_block.value["variants"][0]["content"])

    # Preview as a visitor, from the header's menu.
    page.get_by_role("button", name="Actions", exact=True).click()
    page.get_by_role("link", name="Preview as a visitor").click()
    expect(page.get_by_role("heading", name="Preview as a visitor")).to_be_visible()
    held = page.get_by_role("group", name="Holds the preferences")
    held.get_by_label("Products").check()
    frame = preview(page)
    expect(frame.get_by_text("Welcome, product fan!")).to_be_visible()
    expect(frame.get_by_text("Sign up for news.")).to_have_count(0)
    expect(frame.get_by_text("See you at our customer day!")).to_have_count(0)
    screenshot(page, "preview-as-visitor")

    page.get_by_role("group", name="Holds the preferences").get_by_label("Events").check()
    frame = preview(page)
    expect(frame.get_by_text("Welcome, product fan!")).to_be_visible()
    expect(frame.get_by_text("See you at our customer day!")).to_be_visible()

    page.get_by_label("A visitor the site does not recognise").check()
    frame = preview(page)
    expect(frame.get_by_text("Sign up for news.")).to_be_visible()
    expect(frame.get_by_text("Welcome, product fan!")).to_have_count(0)
    expect(frame.get_by_text("See you at our customer day!")).to_have_count(0)
    screenshot(page, "preview-as-visitor-unknown")
    # The draft was previewed: what visitors get is still the published page, empty.
    assert not FormPage.objects.get(pk=offers.pk).body


def preview(page):
    """Send the preview form and wait for the new page: the frame of the last one is gone."""
    with page.expect_navigation():
        page.get_by_role("button", name="Preview", exact=True).click()
    return page.frame_locator("iframe.wp-preview-frame")


def block_of_type(page, label):
    """The StreamField block whose header names its type ``label``."""
    return page.locator("[data-streamfield-child]").filter(
        has=page.locator(".c-sf-block__type", has_text=re.compile(f"^{label}$"))
    )


def collapse(block):
    toggle = block.locator(".w-panel__header").first.get_by_role("button", name="Toggle section")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")


def heading_text(block):
    return block.locator(".w-panel__header").first.locator("[data-panel-heading-text]")
