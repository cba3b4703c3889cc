"""The blocks editors can put in a page body."""

from wagtail import blocks
from wagtail.images.blocks import ImageBlock

from wagtail_preferences.blocks import DynamicContentBlock, FirstMatchBlock, PreferenceFormBlock


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


class ContentBlocks(blocks.StreamBlock):
    """The site's own content blocks, defined once: page bodies and sections both have them."""

    heading = blocks.CharBlock(
        form_classname="title", icon="title", template="home/blocks/heading.html"
    )
    paragraph = blocks.RichTextBlock(
        features=["bold", "italic", "link", "document-link", "ol", "ul", "h3"],
        template="home/blocks/paragraph.html",
    )
    image = FigureBlock()
    quote = QuoteBlock()


class SectionBlock(ContentBlocks):
    """A section of content, as the dynamic blocks below show or hide it."""

    # A form can be one of them: a sign-up form for some visitors, something else for others.
    preference_form = PreferenceFormBlock()


class BodyBlock(ContentBlocks):
    # The preference center's opt-in / update form, like any other block of the site.
    preference_form = PreferenceFormBlock()
    # Sections by the visitor's preferences: the preference center's blocks wrap the site's
    # own content. This is all a site adds to offer them (then `makemigrations`).
    dynamic = DynamicContentBlock(SectionBlock())
    variants = FirstMatchBlock(SectionBlock())
