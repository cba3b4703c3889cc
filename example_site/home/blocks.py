"""The blocks editors can put in a page body."""

from wagtail import blocks
from wagtail.images.blocks import ImageBlock

from wagtail_preferences.blocks import PreferenceFormBlock


class FigureBlock(blocks.StructBlock):
    image = ImageBlock()
    caption = blocks.CharBlock(required=False)

    class Meta:
        icon = "image"
        template = "home/blocks/figure.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False)

    class Meta:
        icon = "openquote"
        template = "home/blocks/quote.html"


class BodyBlock(blocks.StreamBlock):
    heading = blocks.CharBlock(
        form_classname="title", icon="title", template="home/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(
        features=["bold", "italic", "link", "document-link", "ol", "ul", "h3"],
        template="home/blocks/paragraph.html",
    )
    image = FigureBlock()
    quote = QuoteBlock()
    # The preference center's opt-in / update form, like any other block of the site.
    preference_form = PreferenceFormBlock()
