"""A visitor's whole journey in Chromium, from the editor's form block to unsubscribing.

An editor builds the form in Wagtail's page editor and publishes it; a visitor, in a browser
of their own, subscribes, confirms by the emailed link, changes their settings on the
manage-preferences page and unsubscribes. After each step the test reads the database.
"""

import datetime

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.waiting import eventually
from tests.factories import CategoryFactory, PreferenceFactory
from tests.testapp.models import FormPage
from tests.visitor_helpers import confirmation_path, form_page
from wagtail_preferences import services
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    Contact,
    ContactStatus,
    FormSubmission,
    SubmissionStatus,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ann@example.com"


@pytest.fixture(autouse=True)
def no_minimum_fill_time(settings):
    """A browser driven by a test fills a form in well under ``MIN_FILL_SECONDS``."""
    settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 0}


def tick(page, group, *names):
    """Tick ``names`` in the block's checkbox group ``group`` (a child block's name)."""
    boxes = page.locator(f'[data-contentpath="{group}"]')
    for name in names:
        box = boxes.get_by_label(name, exact=True)
        # On a loaded machine the new block's widgets are sometimes set up again just as the
        # first click lands, which leaves the box as it was: click once more then.
        for attempt in range(3):
            try:
                box.check()
                break
            except PlaywrightError:
                if attempt == 2:
                    raise


def publish_form_page(page, wagtail_site, screenshot) -> FormPage:
    """The editor's part: a form page with a preference form block, made in the editor."""
    page.goto(f"/admin/pages/{wagtail_site.root_page_id}/")
    # FormPage is the only page type that can be added here, so Wagtail opens its editor.
    page.get_by_role("link", name="Add child page").click()
    page.get_by_placeholder("Page title*").fill("Stay in touch")

    page.get_by_role("button", name="Insert a block").click()
    block_choice = page.get_by_role("option", name="Preference form")
    expect(block_choice).to_be_visible()
    screenshot(page, "editor-1-add-block")
    block_choice.click()

    page.get_by_label("Heading", exact=True).fill("Sign up for our news")
    tick(page, "preferences", "Products", "Trainings")
    tick(page, "preselected_preferences", "Trainings")
    tick(page, "categories", "Promotions")
    # Tall enough to show the block from its heading to its categories.
    page.set_viewport_size({"width": 1280, "height": 1800})
    page.get_by_label("Kind of form").evaluate(
        "field => field.closest('section').scrollIntoView({block: 'start', inline: 'nearest'})"
    )
    screenshot(page, "editor-2-form-block")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Page 'Stay in touch' created and published.")).to_be_visible()
    screenshot(page, "editor-3-published")
    return FormPage.objects.get(slug="stay-in-touch")


def test_an_editor_publishes_a_form_and_a_visitor_subscribes_manages_and_leaves(
    admin_page, new_context, wagtail_site, mailoutbox, screenshot
):
    products = PreferenceFactory(name="Products", description="News about our products.")
    trainings = PreferenceFactory(name="Trainings", description="Courses and workshops.")
    promotions = CategoryFactory(name="Promotions", description="Offers and discounts.")

    # 1. The editor publishes a page with the form.
    form = publish_form_page(admin_page, wagtail_site, screenshot)
    assert form.live
    assert form.get_parent().pk == wagtail_site.root_page_id
    [block] = form.body
    assert block.block_type == "preference_form"
    assert block.value["heading"] == "Sign up for our news"
    assert block.value["preferences"] == [str(products.pk), str(trainings.pk)]
    assert block.value["preselected_preferences"] == [str(trainings.pk)]
    assert block.value["categories"] == [str(promotions.pk)]
    assert block.value["ticked_categories"] == []
    assert block.value["double_opt_in"]

    # 2. A visitor fills it in.
    page = new_context()
    page.goto(form.url)
    signup = page.get_by_role("region", name="Sign up for our news")
    expect(signup.get_by_label("Trainings")).to_be_checked()
    expect(signup.get_by_label("Products")).not_to_be_checked()
    signup.get_by_label("Email address").fill(EMAIL)
    signup.get_by_label("First name").fill("Ann")
    signup.get_by_label("Products").check()
    signup.get_by_label("Trainings").uncheck()
    signup.get_by_label("Promotions").check()
    screenshot(page, "visitor-1-form")
    signup.get_by_role("button", name="Subscribe").click()
    expect(signup.get_by_role("status")).to_contain_text("Please check your inbox")
    screenshot(page, "visitor-2-check-inbox")

    # The sign-up is recorded, and its email sent, after the answer (decision 0009).
    eventually(lambda: mailoutbox)
    contact = Contact.objects.get()
    assert (contact.email, contact.status, contact.first_name) == (
        EMAIL,
        ContactStatus.PENDING,
        "",
    )
    assert not contact.preferences.exists()
    assert not CategoryChoice.objects.exists()
    assert services.channel_settings(contact) == {}
    submission = FormSubmission.objects.get()
    assert (submission.contact, submission.status, submission.page_id) == (
        contact,
        SubmissionStatus.PENDING,
        form.pk,
    )
    assert submission.chosen("preferences") == ["Products"]
    assert submission.chosen("categories") == ["Promotions"]
    [message] = mailoutbox
    assert message.to == [EMAIL]

    # 3. The link in the email shows what was chosen; only the button confirms.
    page.goto(confirmation_path(message))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    expect(page.get_by_role("listitem")).to_have_text(["Products", "Promotions"])
    screenshot(page, "visitor-3-confirm")
    contact.refresh_from_db()
    submission.refresh_from_db()
    assert (contact.status, submission.status) == (ContactStatus.PENDING, SubmissionStatus.PENDING)
    assert not contact.preferences.exists()

    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your preferences", exact=True)).to_be_visible()
    expect(page.get_by_text("your subscription is confirmed")).to_be_visible()
    contact.refresh_from_db()
    submission.refresh_from_db()
    assert (contact.status, contact.first_name) == (ContactStatus.CONFIRMED, "Ann")
    assert submission.status == SubmissionStatus.CONFIRMED
    assert list(contact.preferences.all()) == [products]
    assert list(CategoryChoice.objects.values_list("category", "subscribed")) == [
        (promotions.pk, True)
    ]
    assert set(ConsentEvent.objects.filter(contact=contact).values_list("path", flat=True)) == {
        ChangePath.FORM
    }

    # 4. On the manage page: a frequency, a pause, and no more promotions.
    manage = page.locator("form.wp-manage")
    expect(manage.get_by_label("Products")).to_be_checked()
    expect(manage.get_by_label("Trainings")).not_to_be_checked()
    expect(manage.get_by_label("Promotions")).to_be_checked()
    email = manage.get_by_role("group", name="Email", exact=True)
    email.get_by_label("At most").fill("2")
    email.get_by_label("messages", exact=True).select_option("week")
    email.get_by_label("Pause from").fill("2030-07-01")
    email.get_by_label("to", exact=True).fill("2030-07-31")
    manage.get_by_label("Promotions").uncheck()
    screenshot(page, "visitor-4-manage")
    before = set(ConsentEvent.objects.values_list("pk", flat=True))
    manage.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_role("status")).to_have_text("Your preferences are saved.")
    screenshot(page, "visitor-5-saved")

    settings = services.channel_settings(contact)
    assert set(settings) == {"email"}
    assert (settings["email"].frequency_count, settings["email"].frequency_period) == (2, "week")
    assert (settings["email"].pause_from, settings["email"].pause_to) == (
        datetime.date(2030, 7, 1),
        datetime.date(2030, 7, 31),
    )
    assert settings["email"].enabled
    assert list(CategoryChoice.objects.values_list("category", "subscribed")) == [
        (promotions.pk, False)
    ]
    assert list(contact.preferences.all()) == [products]
    saved = ConsentEvent.objects.exclude(pk__in=before)
    assert set(saved.values_list("path", flat=True)) == {ChangePath.SELF_SERVICE}
    assert sorted(saved.values_list("subject", "subject_label", "field")) == [
        ("category", "Promotions", "subscribed"),
        ("channel", "email", "frequency"),
        ("channel", "email", "pause"),
    ]

    # 5. Unsubscribing from everything.
    page.get_by_role("button", name="Unsubscribe from everything").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    screenshot(page, "visitor-6-unsubscribed")
    contact.refresh_from_db()
    assert contact.status == ContactStatus.UNSUBSCRIBED
    [event] = ConsentEvent.objects.filter(path=ChangePath.UNSUBSCRIBE)
    assert (event.contact, event.subject, event.new_value) == (
        contact,
        "status",
        ContactStatus.UNSUBSCRIBED,
    )
    assert len(mailoutbox) == 1


def test_a_form_with_errors_keeps_what_was_typed_without_javascript(new_context, screenshot):
    products = PreferenceFactory(name="Products", description="News about our products.")
    form = form_page(preferences=[products], heading="Sign up")
    page = new_context(java_script_enabled=False)
    page.goto(form.url)
    signup = page.get_by_role("region", name="Sign up")
    signup.get_by_label("Email address").fill("ann-at-example.com")
    signup.get_by_label("First name").fill("Ann")
    signup.get_by_label("Products").check()
    signup.get_by_role("button", name="Subscribe").click()

    summary = page.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_text(
        ["Email address: Enter a valid email address."]
    )
    email = signup.get_by_label("Email address")
    expect(email).to_have_value("ann-at-example.com")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Error: Enter a valid email address.")
    expect(signup.get_by_label("First name")).to_have_value("Ann")
    expect(signup.get_by_label("Products")).to_be_checked()
    screenshot(page, "visitor-errors")
    assert not Contact.objects.exists()
    assert not FormSubmission.objects.exists()
