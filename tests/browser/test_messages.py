"""Messages in Chromium: the SMS counter of the editor, "Preview as…", and a sent email."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection

from tests.factories import CategoryFactory, ContactFactory, MessageFactory
from wagtail_preferences.audience.profiles import profile_of
from wagtail_preferences.messaging.rendering import MessageRenderer
from wagtail_preferences.messaging.sms_text import sms_segments

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)
COUNT = re.compile(r"(\d+) characters \((GSM-7|UCS-2)\): (\d+) SMS")


def open_sms_tab(page, message):
    page.goto(f"/admin/preference-center/messages/edit/{message.pk}/")
    page.get_by_role("tab", name="SMS").click()
    field = page.locator("textarea[data-wp-sms-counter]")
    return field, page.locator(f"#{field.get_attribute('id')}-sms-count")


def counted(counter) -> tuple[int, int, str]:
    length, encoding, segments = COUNT.search(counter.inner_text()).groups()
    return int(length), int(segments), encoding


class TestSMSCounter:
    def test_the_count_follows_the_typing(self, admin_page, screenshot):
        field, counter = open_sms_tab(admin_page, MessageFactory())
        expect(counter).to_contain_text("0 characters (GSM-7): 0 SMS")

        field.press_sequentially("Fresh bread [8am]")
        expect(counter).to_contain_text("19 characters (GSM-7): 1 SMS")
        screenshot(admin_page, "admin-message-sms-counter")

        field.press_sequentially(" ça")
        expect(counter).to_contain_text("20 characters (UCS-2): 1 SMS")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("a" * 160, (160, 1, "GSM-7")),
            ("a" * 161, (161, 2, "GSM-7")),
            ("a" * 306, (306, 2, "GSM-7")),
            ("a" * 307, (307, 3, "GSM-7")),
            ("€" * 80, (160, 1, "GSM-7")),
            ("[" + "a" * 159, (161, 2, "GSM-7")),
            ("{}~\\|^ é Ñ", (16, 1, "GSM-7")),
            ("ç" * 70, (70, 1, "UCS-2")),
            ("ç" * 71, (71, 2, "UCS-2")),
            ("ő" * 134, (134, 2, "UCS-2")),
            ("ő" * 135, (135, 3, "UCS-2")),
            ("€ and 😀" * 7, (56, 1, "UCS-2")),
            ("Line one\nLine two", (17, 1, "GSM-7")),
        ],
        ids=[
            "gsm-one-full",
            "gsm-one-over",
            "gsm-two-full",
            "gsm-two-over",
            "euro-signs",
            "a-bracket-tips-over",
            "extension-and-accents",
            "ucs2-one-full",
            "ucs2-one-over",
            "ucs2-two-full",
            "ucs2-two-over",
            "emoji",
            "line-break",
        ],
    )
    def test_the_editor_counts_as_the_server_does(self, admin_page, text, expected):
        field, counter = open_sms_tab(admin_page, MessageFactory())

        field.fill(text)

        assert counted(counter) == expected == sms_segments(text)

    def test_an_existing_text_is_counted_when_the_page_opens(self, admin_page):
        message = MessageFactory(sms_text="Prices in € [today]")

        _, counter = open_sms_tab(admin_page, message)

        assert counted(counter) == (22, 1, "GSM-7") == sms_segments(message.sms_text)

    def test_a_saved_text_over_several_lines_counts_the_same_after_saving(self, admin_page):
        message = MessageFactory()
        field, counter = open_sms_tab(admin_page, message)
        field.fill("Fresh bread\nat 8")
        typed = counted(counter)

        admin_page.get_by_role("button", name="Save draft").click()
        expect(admin_page.get_by_text("updated")).to_be_visible()

        message.refresh_from_db()
        saved = message.get_latest_revision_as_object().sms_text
        assert saved == "Fresh bread\nat 8"
        assert typed == sms_segments(saved) == (16, 1, "GSM-7")
        _, counter = open_sms_tab(admin_page, message)
        assert counted(counter) == typed


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.scrollingElement.scrollWidth <= document.documentElement.clientWidth"
    )


def widest_image(page) -> float:
    return page.evaluate(
        "Math.max(0, ...[...document.images].map(i => i.getBoundingClientRect().width))"
    )


def images_loaded(page) -> bool:
    return page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")


def luminances(locator) -> tuple[float, float]:
    """WCAG relative luminance of the element's text and of the first opaque background
    behind it."""
    colours = locator.evaluate(
        """element => {
            const rgb = c => c.match(/[\\d.]+/g).map(Number);
            const text = rgb(getComputedStyle(element).color);
            for (let e = element; e; e = e.parentElement) {
                const back = rgb(getComputedStyle(e).backgroundColor);
                if (back.length === 3 || back[3] > 0) return [text, back];
            }
            return [text, [255, 255, 255]];
        }"""
    )

    def luminance(rgb):
        linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    text, background = (luminance(colour[:3]) for colour in colours)
    return text, background


@pytest.fixture
def bakery_message(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.ROOT_URLCONF = "tests.urls_serving_media"
    # Transactional tests empty the tables, the root collection Wagtail's migrations made too.
    Collection.get_first_root_node() or Collection.add_root(name="Root")
    image = Image.objects.create(
        title="Loaves", file=get_test_image_file(colour="#b5651d", size=(1200, 500))
    )
    long_line = "Our sourdough-rye-and-spelt-wholegrain-country-loaf is back " * 3
    return MessageFactory(
        category=CategoryFactory(name="Newsletter"),
        body=[
            {"type": "heading", "value": "Fresh bread, {{ first_name }}"},
            {"type": "image", "value": {"image": image.pk, "alt": "Warm loaves", "link": ""}},
            {"type": "paragraph", "value": f"<p>{long_line} <a href='/news/'>our news</a>.</p>"},
            {"type": "button", "value": {"text": "Order now", "url": "https://example.com/o"}},
        ],
    )


def test_preview_as_shows_the_email_at_both_widths_beside_its_plain_text(
    admin_page, bakery_message, wagtail_site, live_server, screenshot
):
    wagtail_site.port = urlsplit(live_server.url).port  # the email's images come from here
    wagtail_site.save()
    ContactFactory(email="ann@example.com", first_name="Ann")
    page = admin_page
    page.goto(f"/admin/preference-center/messages/{bakery_message.pk}/preview-as/")
    page.get_by_label("A contact's email address").fill("ann@example.com")
    page.get_by_role("button", name="Preview").click()

    text = page.locator("pre")
    expect(text).to_contain_text("Fresh bread, Ann")
    for width in WIDTHS:
        frame = page.locator(f"iframe[width='{width}']")
        heading = frame.content_frame.get_by_role("heading", name="Fresh bread, Ann")
        expect(heading).to_be_visible()
        email = frame.element_handle().content_frame()
        email.wait_for_load_state()
        assert no_horizontal_scroll(email)
        assert images_loaded(email)
        assert 0 < widest_image(email) <= width
    screenshot(page, "admin-message-preview-as")
    page.locator("iframe[width='1280']").scroll_into_view_if_needed()
    screenshot(page, "admin-message-preview-as-1280")

    assert no_horizontal_scroll(page)
    phone, beside = page.locator("iframe[width='390']").bounding_box(), text.bounding_box()
    assert beside["x"] > phone["x"] + phone["width"]
    assert beside["x"] + beside["width"] <= page.viewport_size["width"]
    assert beside["y"] < phone["y"] + phone["height"]


class TestSentEmail:
    @pytest.fixture
    def email(self, bakery_message, live_server):
        contact = ContactFactory(first_name="Ann", email="ann@example.com")
        renderer = MessageRenderer(bakery_message, base_url=live_server.url)
        return renderer.render_one("email", contact, profile_of(contact))

    @pytest.mark.parametrize("width", WIDTHS)
    def test_the_email_fits_the_screen(self, new_context, email, width, screenshot):
        page = new_context(viewport={"width": width, "height": 800})
        page.set_content(email.html, wait_until="load")
        screenshot(page, f"email-{width}")

        assert no_horizontal_scroll(page)
        assert images_loaded(page)
        assert 0 < widest_image(page) <= width
        for link in ("Manage your preferences", "Unsubscribe"):
            expect(page.get_by_role("link", name=link)).to_be_visible()

    def test_the_text_is_dark_on_light(self, new_context, email):
        page = new_context(viewport={"width": 390, "height": 800})
        page.set_content(email.html)

        for text in ("Fresh bread, Ann", "Our sourdough", "Manage your preferences", "Unsubscribe"):
            dark, light = luminances(page.get_by_text(text).first)
            assert (light + 0.05) / (dark + 0.05) >= 4.5, text  # WCAG AA contrast

    @pytest.mark.parametrize(
        ("link", "heading"),
        [
            ("Manage your preferences", "Your preferences"),
            ("Unsubscribe", "Unsubscribe from “Newsletter”"),
        ],
    )
    def test_the_footer_links_open_the_contacts_pages(self, new_context, email, link, heading):
        page = new_context()
        page.set_content(email.html)

        page.get_by_role("link", name=link).click()

        expect(page.get_by_role("heading", name=heading)).to_be_visible()
