"""A page type for the tests: a StreamField with the app's blocks at the top and nested."""

from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_preferences.blocks import DynamicContentBlock, FirstMatchBlock, PreferenceFormBlock


class ColumnsBlock(blocks.StructBlock):
    """A site's own layout block with forms inside it, as sites nest blocks."""

    left = blocks.StreamBlock([("preference_form", PreferenceFormBlock())], required=False)
    right = blocks.StreamBlock([("paragraph", blocks.RichTextBlock())], required=False)

    class Meta:
        template = "testapp/blocks/columns.html"


class SectionBlock(blocks.StreamBlock):
    """The site's own content, which dynamic blocks show or hide."""

    paragraph = blocks.RichTextBlock()
    preference_form = PreferenceFormBlock()


class BodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock()
    preference_form = PreferenceFormBlock()
    columns = ColumnsBlock()
    dynamic = DynamicContentBlock(SectionBlock())
    variants = FirstMatchBlock(SectionBlock())


class FormPage(Page):
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]


class SentMessage(models.Model):
    """A message sent, as the tests record it for frequency caps (``reachable_on``'s ``sent``)."""

    contact = models.ForeignKey("wagtail_preferences.Contact", on_delete=models.CASCADE)
    channel = models.CharField(max_length=32)
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.channel} to {self.contact_id} at {self.sent_at}"
