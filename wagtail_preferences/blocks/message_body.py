"""The blocks a message's body is written in.

Sections shown by what the recipient holds are the same ``DynamicContentBlock`` and
``FirstMatchBlock`` as on pages, decided from the recipient's profile by the same conditions.
Each block renders to MJML (``messaging.rendering``), which makes the responsive email.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from .dynamic_content import DynamicContentBlock, FirstMatchBlock

#: Rich text features that mail programs show reliably.
TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul"]


class EmailImageBlock(blocks.StructBlock):
    image = ImageChooserBlock(label=_("image"))
    alt = blocks.CharBlock(
        label=_("alternative text"),
        required=False,
        help_text=_("Shown when the mail program does not load images. Blank: the image title."),
    )
    link = blocks.URLBlock(label=_("link"), required=False)

    class Meta:
        icon = "image"
        label = _("Image")


class ButtonBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("text"), max_length=80)
    url = blocks.URLBlock(label=_("link"))

    class Meta:
        icon = "link"
        label = _("Button")
        label_format = "{text}"


class MessageSectionBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(label=_("Heading"), icon="title", max_length=200)
    paragraph = blocks.RichTextBlock(label=_("Text"), features=TEXT_FEATURES)
    image = EmailImageBlock()
    button = ButtonBlock()
    divider = blocks.StaticBlock(label=_("Divider"), icon="minus", admin_text=_("A line."))


class MessageBodyBlock(MessageSectionBlock):
    dynamic = DynamicContentBlock(MessageSectionBlock())
    variants = FirstMatchBlock(MessageSectionBlock())
