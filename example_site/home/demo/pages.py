"""The demo page tree: a home page with a few content pages, served by the default site."""

import json
from io import BytesIO

from django.contrib.contenttypes.models import ContentType
from django.core.files.images import ImageFile
from django.db import transaction
from PIL import Image as PILImage
from PIL import ImageDraw
from wagtail.images import get_image_model
from wagtail.models import Page, Site

from ..models import ContentPage, HomePage

SITE_NAME = "Example Company"
IMAGE_TITLE = "Demo: blue waves"

HOME = {
    "title": "Welcome to Example Company",
    "slug": "home",
    "intro": (
        "Tools and training for teams that care about their customers. "
        "Tell us what you want to hear about, and we will send you nothing else."
    ),
    "body": [
        {"type": "heading", "value": "Messages you asked for"},
        {
            "type": "paragraph",
            "value": (
                "<p>Choose the topics that interest you: product news, trainings, events or "
                "our monthly newsletter. Change your mind at any time, pause our emails while "
                "you are away, or tell us how often you want to hear from us.</p>"
            ),
        },
    ],
}

PAGES = [
    {
        "title": "About us",
        "slug": "about",
        "intro": "A small team building software, trainings and events for customer teams.",
        "body": [
            {"type": "heading", "value": "Who we are"},
            {
                "type": "paragraph",
                "value": (
                    "<p>Example Company started in 2012 with one product and a handful of "
                    "customers. Today we help <b>more than 2,000 teams</b> across Europe "
                    "answer their customers faster and better.</p>"
                ),
            },
            {"type": "image", "value": {"caption": "Our office by the sea"}},
            {"type": "heading", "value": "How we keep in touch"},
            {
                "type": "paragraph",
                "value": (
                    "<p>We only write to you about the topics you chose. Every email we send "
                    "has a link to your own preferences page, where you can:</p>"
                    "<ul><li>pick the topics you care about,</li>"
                    "<li>choose how often we may write,</li>"
                    "<li>pause our messages while you are away,</li>"
                    "<li>or unsubscribe in one click.</li></ul>"
                ),
            },
            {
                "type": "quote",
                "value": {
                    "quote": (
                        "Their newsletter is the only one I still read: short, useful, and "
                        "never about things I did not ask for."
                    ),
                    "attribution": "Lotte Peeters, customer since 2019",
                },
            },
        ],
    },
    {
        "title": "Stay in touch",
        "slug": "stay-in-touch",
        "intro": "Sign up for the messages you want: product news, trainings, events or all.",
        "body": [
            {"type": "heading", "value": "Choose what you receive"},
            {
                "type": "paragraph",
                "value": (
                    "<p>Leave your email address and tick the topics that interest you. "
                    "We will send a short email to confirm your address first.</p>"
                ),
            },
        ],
    },
    {
        "title": "Trainings and events",
        "slug": "trainings-and-events",
        "intro": "Webinars, hands-on workshops and our yearly customer day.",
        "body": [
            {"type": "heading", "value": "Learn with us"},
            {
                "type": "paragraph",
                "value": (
                    "<p>Every month we run free webinars for new users and paid, hands-on "
                    "workshops for teams who want to go further. Our customer day brings "
                    "everyone together once a year.</p>"
                ),
            },
            {
                "type": "quote",
                "value": {
                    "quote": "We came for the workshop and left with a plan for the whole year.",
                    "attribution": "Jonas Weber, support lead",
                },
            },
        ],
    },
]


def demo_image():
    """A generated picture, so the demo needs no files of its own."""
    Image = get_image_model()
    image = Image.objects.filter(title=IMAGE_TITLE).first()
    if image is not None:
        return image
    width, height = 1200, 600
    picture = PILImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        shade = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=(int(11 + 40 * shade), int(92 + 70 * shade), int(173 + 60 * shade)),
        )
    for band in range(6):
        top = 260 + band * 55
        points = [(x, top + int(30 * ((x / 150 + band) % 2 - 1) ** 2)) for x in range(0, 1201, 25)]
        draw.line(points, fill=(232, 241, 251), width=6 - band // 2)
    buffer = BytesIO()
    picture.save(buffer, format="PNG")
    image = Image(
        title=IMAGE_TITLE,
        file=ImageFile(buffer, name="demo-blue-waves.png"),
        description="Soft white waves over a deep blue sea",
    )
    image.save()
    return image


def _body(blocks, image) -> str:
    """Raw StreamField data, with the demo image in the image blocks."""
    raw = []
    for block in blocks:
        value = block["value"]
        if block["type"] == "image":
            value = {
                **value,
                "image": {"image": image.pk, "decorative": False, "alt_text": image.description},
            }
        raw.append({"type": block["type"], "value": value})
    return json.dumps(raw)


def signup_forms(preferences, categories) -> list[dict]:
    """The forms of the "Stay in touch" page: an opt-in form and an update form."""
    offered = [
        str(preferences[name].pk) for name in ("Products", "Trainings", "Events", "Newsletter")
    ]
    sent = [str(categories[name].pk) for name in ("Promotions", "Event invitations")]
    common = {
        "first_name": "optional",
        "last_name": "optional",
        "phone": "hidden",
        "preselected_preferences": [str(preferences["Newsletter"].pk)],
        "required_preferences": [],
        "categories": sent,
        "ticked_categories": sent,
        "segments": [],
        "success_message": "",
        "success_page": None,
        "double_opt_in": True,
    }
    return [
        {
            "type": "preference_form",
            "value": {
                **common,
                "mode": "opt_in",
                "recognised": "line",
                "heading": "Sign up",
                "intro": "Tick what interests you. We first send an email to confirm it is you.",
                "preferences": offered,
                "consent_text": (
                    "By subscribing you agree that Example Company emails you about the "
                    "subjects you chose. Every email has a link to change your choices or "
                    "to unsubscribe."
                ),
                "button_label": "Subscribe",
            },
        },
        {
            "type": "preference_form",
            "value": {
                **common,
                "mode": "update",
                "recognised": "update_form",
                "heading": "Already subscribed? Update your choices",
                "intro": "",
                "preferences": offered,
                "consent_text": "We email you about the subjects ticked above, nothing else.",
                "button_label": "Save my choices",
            },
        },
    ]


def ensure_signup_forms(home, preferences, categories, user) -> None:
    """Give "Stay in touch" its forms, unless it has some already."""
    page = home.get_children().filter(slug="stay-in-touch").specific().first()
    if page is None or any(block.block_type == "preference_form" for block in page.body):
        return
    raw = list(page.body.raw_data) + signup_forms(preferences, categories)
    page.body = json.dumps([dict(block) for block in raw])
    publish(page, user)


def publish(page, user) -> None:
    page.save_revision(user=user, log_action=True).publish(user=user)


@transaction.atomic
def ensure_pages(user) -> HomePage:
    """Create whatever part of the page tree is missing; pages editors changed stay as they are."""
    image = demo_image()
    home = HomePage.objects.first()
    if home is None:
        # Wagtail's own welcome page has the slug we want; it goes, and its site with it.
        Page.objects.filter(
            depth=2, slug=HOME["slug"], content_type=ContentType.objects.get_for_model(Page)
        ).delete()
        root = Page.get_first_root_node()
        home = root.add_child(instance=HomePage(**{**HOME, "body": _body(HOME["body"], image)}))
        publish(home, user)
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": SITE_NAME},
    )
    for spec in PAGES:
        if home.get_children().filter(slug=spec["slug"]).exists():
            continue
        page = ContentPage(**{**spec, "body": _body(spec["body"], image), "show_in_menus": True})
        home.add_child(instance=page)
        publish(page, user)
    return home
