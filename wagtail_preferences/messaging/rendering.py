"""Messages rendered for their recipients: email (MJML to HTML, and plain text) and SMS.

A body's dynamic sections are decided from each recipient's ``Profile`` by the same
conditions as on pages. The decisions make the variant's key; each variant is rendered once
per renderer (MJML is the costly part), with unguessable placeholders where each recipient's
own parts go: their merge tags and their manage and unsubscribe links. Filling those in is a
string replacement per recipient.

A campaign that tracks clicks (``Tracking``) gets its variant's http(s) links, in the HTML
and the plain text, rewritten to click links (``…/t/c/<token>/<number>/``): the number of the
link among the campaign's ``CampaignLink``s, and a short signed token of the delivery, filled
in per recipient like the other placeholders. One that tracks opens gets a 1×1 image
(``…/t/o/<token>.gif``). The manage and unsubscribe links, links made of merge tags, and the
messages of contacts who refuse tracking, of previews and of tests stay as they are.

Editors may type these merge tags in the subject, preheader, text, button labels and SMS text
(spaces inside the braces are optional): ``{{ first_name }}``, ``{{ last_name }}``,
``{{ email }}``, ``{{ manage_url }}``, ``{{ unsubscribe_url }}``.
"""

import html
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import mjml
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail.images.models import SourceImageIOError
from wagtail.templatetags.wagtailcore_tags import richtext

from ..audience.profiles import Profile
from ..channels.base import OutgoingMessage
from ..channels.registry import get_channel
from ..feedback.tracking import MAX_URL_LENGTH, register_links
from ..identity import tokens
from ..identity.tokens import UnsubscribeScope
from ..models import Contact, EngagementKind, Message
from .links import link_maker, list_unsubscribe, site_base_url, site_name
from .plain_text import html_to_text

MERGE_TAGS = ("first_name", "last_name", "email", "manage_url", "unsubscribe_url")
MERGE_TAG = re.compile(r"\{\{\s*(" + "|".join(MERGE_TAGS) + r")\s*\}\}")
#: Per-recipient parts that are no merge tag: editors cannot type them.
INTERNAL_TAGS = ("tracking_token",)
TEMPLATES = "wagtail_preferences/messages/mjml/"
#: The image rendition emails show; wide enough for screens of twice the 600px layout.
IMAGE_RENDITION = "width-1200"
#: The widest an image is shown, in CSS pixels: the 600px layout less its padding.
IMAGE_MAX_WIDTH = 550
# Where a line may break without changing what shows: before a block-level or table tag or
# a comment. MJML writes a body on one line; lines under SMTP's 998 characters let the HTML
# go as it is, rather than quoted-printable (larger, and slower to make).
BETWEEN_BLOCKS = re.compile(
    r"(?<=>)(?=<(?:/?(?:table|tbody|tr|td|div|p|h[1-6]|ul|ol|li|center|head|body|meta|title"
    r"|style)[\s>/]|!--))"
)
#: How long a line of HTML grows before it is broken between blocks: few lines are cheaper
#: to send and to receive, and the room left under 998 takes each recipient's links and name.
HTML_LINE_LENGTH = 500
# Line breaks in the head, with the spaces around them: whitespace there shows nowhere (the
# title's runs of spaces show as one), and every line costs each party to the sending a little.
BREAK_BETWEEN_TAGS = re.compile(r"(?<=>)\s*\n\s*(?=<)")
LINE_BREAK = re.compile(r"\s*\n\s*")
RELATIVE_LINK = re.compile(r'(\s(?:href|src)=")(/(?!/)[^"]*)"')
#: The links of an email's HTML that click tracking may rewrite: those of ``<a>`` tags.
ANCHOR_LINK = re.compile(r'(<a\s[^>]*?\bhref=")(https?://[^"]+)"', re.IGNORECASE)
TRACKABLE = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Recipient:
    """Whom one rendered message is for.

    ``message_id`` is the RFC 5322 ``Message-ID`` (``"<...@host>"``), fixed before the first
    attempt so that a retry sends the same one; empty: the channel makes one.
    """

    delivery_id: int | None  # None for previews and tests
    contact: Contact
    address: str
    message_id: str = ""


@dataclass(frozen=True)
class Tracking:
    """What a campaign's emails track: the kinds of ``feedback.policy.campaign_tracks``,
    decided once per batch. Recipients who refuse tracking, and recipients without a
    delivery, get emails without it."""

    campaign_id: int
    kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Variant:
    """One variant of an email, rendered, with placeholders for each recipient's parts."""

    html: str
    text: str


class Placeholders:
    """A placeholder per merge tag, unguessable, so that no content can imitate one."""

    def __init__(self):
        self.prefix = f"wp{secrets.token_hex(8)}"
        self.by_tag = {tag: f"{self.prefix}{tag}" for tag in (*MERGE_TAGS, *INTERNAL_TAGS)}
        self._placeholder = re.compile("|".join(self.by_tag.values()))
        self._tag_of = {placeholder: tag for tag, placeholder in self.by_tag.items()}

    def mark(self, text: str) -> str:
        """``text`` with its merge tags replaced by placeholders."""
        return MERGE_TAG.sub(lambda match: self.by_tag[match[1]], text)

    def fill(self, text: str, values: dict[str, str], *, escape: bool = False) -> str:
        """``text`` with each placeholder replaced by its value, HTML-escaped if ``escape``."""
        quote = html.escape if escape else str
        return self._placeholder.sub(lambda match: quote(values[self._tag_of[match[0]]]), text)


def fill_merge_tags(text: str, values: dict[str, str]) -> str:
    """``text`` with its merge tags replaced by ``values``, as they are."""
    return MERGE_TAG.sub(lambda match: values[match[1]], text)


def chosen_leaves(stream_value, profile: Profile | None, key: list) -> Iterator[tuple[str, object]]:
    """(block name, value) of the blocks a contact with ``profile`` sees, in order.

    Blocks shown by a condition (those with ``chosen_for``: dynamic content, first matching
    variant) add what they chose to ``key``.
    """
    for child in stream_value:
        chosen_for = getattr(child.block, "chosen_for", None)
        if chosen_for is None:
            yield child.block_type, child.value
            continue
        choice, _block, content = chosen_for(child.value, profile)
        key.append(choice)
        yield from chosen_leaves(content, profile, key)


def broken_between_blocks(html: str) -> str:
    """``html`` with a line break between two blocks wherever a line would otherwise grow
    past ``HTML_LINE_LENGTH``."""
    parts, length = [], 0
    for piece in BETWEEN_BLOCKS.split(html):
        head, newline, _rest = piece.partition("\n")
        if parts and length + len(head) > HTML_LINE_LENGTH:
            parts.append("\n")
            length = 0
        parts.append(piece)
        length = len(piece) - piece.rfind("\n") - 1 if newline else length + len(piece)
    return "".join(parts)


def head_joined(html: str) -> str:
    """``html`` with the line breaks of its ``<head>`` taken out: none between two tags, a
    space elsewhere (in styles and the title)."""
    head, end, rest = html.partition("</head>")
    if not end:
        return html
    return LINE_BREAK.sub(" ", BREAK_BETWEEN_TAGS.sub("", head + end)) + rest


class MessageRenderer:
    """Renders one message (one revision of it) for many recipients.

    Links are absolute, built on ``base_url`` (default: ``site_base_url()``).
    """

    def __init__(self, message: Message, *, base_url: str | None = None):
        self.message = message
        self.base_url = site_base_url() if base_url is None else base_url.rstrip("/")
        self.placeholders = Placeholders()
        self.scope = UnsubscribeScope.of(message.category)
        self.site_name = site_name()
        self._variants: dict[tuple, Variant] = {}
        self._manage_link = link_maker("wagtail_preferences:manage", self.base_url)
        self._unsubscribe_link = link_maker("wagtail_preferences:unsubscribe", self.base_url)

    def render(
        self,
        channel_key: str,
        recipients: list[Recipient],
        profiles: dict[int, Profile],
        *,
        tracking: Tracking | None = None,
    ) -> list[OutgoingMessage]:
        """The message for each recipient on the channel ``channel_key`` (``"email"`` or
        ``"sms"``), in order. ``profiles`` holds the recipients' profiles by contact id; a
        recipient without one sees every dynamic section's fallback. Emails track what
        ``tracking`` says, for the recipients who allow it."""
        if channel_key == "email":
            return [self._email(r, profiles.get(r.contact.pk), tracking) for r in recipients]
        if channel_key == "sms":
            return [self._sms(recipient) for recipient in recipients]
        raise ValueError(f"Messages cannot be rendered for the channel {channel_key!r}.")

    def render_one(
        self, channel_key: str, contact: Contact, profile: Profile | None = None, *, address=None
    ) -> OutgoingMessage:
        """The message for ``contact``, to ``address`` or their address on the channel."""
        address = address or get_channel(channel_key).address_for(contact)
        [message] = self.render(
            channel_key, [Recipient(None, contact, address)], {contact.pk: profile}
        )
        return message

    def values_for(self, contact: Contact) -> dict[str, str]:
        """What each merge tag stands for in ``contact``'s message."""
        return self._values_and_unsubscribe_token(contact)[0]

    def _values_and_unsubscribe_token(
        self, contact: Contact, delivery_id: int | None = None, tracked: bool = False
    ) -> tuple[dict[str, str], str]:
        manage_token = tokens.contact_token(contact, message_id=self.message.pk)
        # The delivery's id lets an unsubscribe be counted against the message it came in.
        unsubscribe_token = tokens.unsubscribe_token(contact, self.scope, delivery_id=delivery_id)
        values = {
            "tracking_token": tokens.delivery_token(delivery_id) if tracked else "",
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "manage_url": self._manage_link(manage_token),
            "unsubscribe_url": self._unsubscribe_link(unsubscribe_token),
        }
        return values, unsubscribe_token

    def variant_for(self, profile: Profile | None, tracking: Tracking | None = None) -> Variant:
        """The email variant a contact with ``profile`` receives, with the tracking of
        ``tracking``, rendered once per key."""
        key: list = []
        leaves = list(chosen_leaves(self.message.body, profile, key))
        kinds = tracking.kinds if tracking else frozenset()
        variant_key = (tuple(key), kinds, tracking.campaign_id if kinds else None)
        variant = self._variants.get(variant_key)
        if variant is None:
            variant = self._variants[variant_key] = self._variant(leaves, tracking, kinds)
        return variant

    def _variant(self, leaves, tracking: Tracking | None, kinds: frozenset[str]) -> Variant:
        html_part = self._html(leaves)
        if EngagementKind.CLICK not in kinds:
            text = self._text(leaves)
        else:
            urls: list[str] = []
            self._text(leaves, lambda url: urls.append(url) or url)
            urls += [html.unescape(m[2]) for m in ANCHOR_LINK.finditer(html_part)]
            numbers = register_links(tracking.campaign_id, filter(self._trackable, urls))
            text = self._text(leaves, lambda url: self._click_url(url, numbers))
            html_part = ANCHOR_LINK.sub(
                lambda m: f'{m[1]}{html.escape(self._click_url(html.unescape(m[2]), numbers))}"',
                html_part,
            )
        if EngagementKind.OPEN in kinds:
            html_part = self._with_pixel(html_part)
        return Variant(html=html_part, text=text)

    def _trackable(self, url: str) -> bool:
        """Whether ``url`` is a link click tracking may rewrite: http(s), the same for every
        recipient (no merge tag or placeholder in it), and not too long to keep."""
        return bool(
            TRACKABLE.match(url)
            and "{{" not in url
            and self.placeholders.prefix not in url
            and len(url) <= MAX_URL_LENGTH
        )

    def _click_url(self, url: str, numbers: dict[str, int]) -> str:
        if url not in numbers:
            return url
        token = self.placeholders.by_tag["tracking_token"]
        return self.base_url + reverse(
            "wagtail_preferences:tracked_click", args=[token, numbers[url]]
        )

    def _with_pixel(self, html_part: str) -> str:
        token = self.placeholders.by_tag["tracking_token"]
        src = self.base_url + reverse("wagtail_preferences:tracked_open", args=[token])
        pixel = (
            f'<img src="{src}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0">'
        )
        body_end = html_part.rfind("</body>")
        if body_end < 0:
            return html_part + pixel
        return html_part[:body_end] + pixel + html_part[body_end:]

    def _email(
        self, recipient: Recipient, profile: Profile | None, tracking: Tracking | None = None
    ) -> OutgoingMessage:
        if recipient.delivery_id is None or recipient.contact.refuses_tracking:
            tracking = None
        variant = self.variant_for(profile, tracking)
        values, unsubscribe_token = self._values_and_unsubscribe_token(
            recipient.contact, recipient.delivery_id, tracked=bool(tracking and tracking.kinds)
        )
        headers = {}
        if not self.message.transactional:
            headers.update(list_unsubscribe(values["unsubscribe_url"], unsubscribe_token))
        if recipient.message_id:
            headers["Message-ID"] = recipient.message_id
        return self._outgoing(
            recipient,
            subject=fill_merge_tags(self.message.subject, values),
            text=self.placeholders.fill(variant.text, values),
            html=self.placeholders.fill(variant.html, values, escape=True),
            headers=headers,
        )

    def _sms(self, recipient: Recipient) -> OutgoingMessage:
        if not self.message.sms_text.strip():
            raise ValueError(f"The message {self.message} has no SMS text.")
        values = self.values_for(recipient.contact)
        link = _("Manage or stop: %(url)s") % {"url": values["manage_url"]}
        text = f"{fill_merge_tags(self.message.sms_text.strip(), values)}\n{link}"
        return self._outgoing(recipient, text=text)

    def _outgoing(self, recipient: Recipient, **parts) -> OutgoingMessage:
        delivery_id = recipient.delivery_id
        return OutgoingMessage(
            contact_id=recipient.contact.pk,
            address=recipient.address,
            message_id="" if delivery_id is None else str(delivery_id),
            metadata={} if delivery_id is None else {"delivery_id": str(delivery_id)},
            sender=self.message.from_email,
            reply_to=self.message.reply_to,
            **parts,
        )

    def _html(self, leaves) -> str:
        links = self.placeholders.by_tag
        source = render_to_string(
            TEMPLATES + "layout.mjml",
            {
                "subject": self.message.subject,
                "preheader": self.message.preheader,
                "sections": [html for name, value in leaves if (html := self._mjml(name, value))],
                "manage_url": links["manage_url"],
                "unsubscribe_url": "" if self.message.transactional else links["unsubscribe_url"],
                "site_name": self.site_name,
            },
        )
        rendered = mjml.mjml2html(self.placeholders.mark(source))
        rendered = RELATIVE_LINK.sub(lambda m: f'{m[1]}{self.base_url}{m[2]}"', rendered)
        return broken_between_blocks(head_joined(rendered))

    def _mjml(self, name: str, value) -> str:
        context = {"value": value}
        if name == "image":
            image = _image(value)
            if image is None:
                return ""
            context.update(image)
        return render_to_string(f"{TEMPLATES}{name}.mjml", context)

    def _text(self, leaves, link: Callable[[str], str] | None = None) -> str:
        """The plain text of ``leaves``; ``link`` changes each of its (absolute) links."""
        absolute = self._absolute if link is None else lambda url: link(self._absolute(url))
        parts = [text for name, value in leaves if (text := TEXT_OF[name](value, absolute))]
        links = self.placeholders.by_tag
        footer = [f"{_('Manage your preferences')}: {links['manage_url']}"]
        if not self.message.transactional:
            footer.append(f"{_('Unsubscribe')}: {links['unsubscribe_url']}")
        if self.site_name:
            footer.append(self.site_name)
        body = "\n\n".join([*parts, "-- \n" + "\n".join(footer)])
        return self.placeholders.mark(body) + "\n"

    def _absolute(self, url: str) -> str:
        return self.base_url + url if url.startswith("/") and not url.startswith("//") else url


def _image(value) -> dict | None:
    """What an image block's template shows; None if its image was deleted or is missing."""
    image = value["image"]
    if image is None:
        return None
    try:
        rendition = image.get_rendition(IMAGE_RENDITION)
    except SourceImageIOError:
        return None
    return {
        "src": rendition.url,
        "alt": value["alt"] or image.title,
        "width": min(rendition.width, IMAGE_MAX_WIDTH),
    }


def _image_text(value, absolute) -> str:
    image = value["image"]
    return (value["alt"] or image.title) if image is not None else ""


#: The plain text of each leaf block, given a function that makes a link absolute.
TEXT_OF: dict[str, Callable] = {
    "heading": lambda value, absolute: str(value),
    "paragraph": lambda value, absolute: html_to_text(str(richtext(value)), absolute),
    "image": _image_text,
    "button": lambda value, absolute: f"{value['text']}: {absolute(value['url'])}",
    "divider": lambda value, absolute: "-" * 20,
}
