"""Page sections shown by what the visitor holds: preferences, categories, segments.

Both blocks wrap the site's own content block, so editors fill them with the blocks they
already use::

    class BodyBlock(blocks.StreamBlock):
        paragraph = blocks.RichTextBlock()
        dynamic = DynamicContentBlock(SectionBlock())
        variants = FirstMatchBlock(SectionBlock())

The condition is decided from the visitor's profile, read once per request however many
blocks the page has. Rendering marks the response as personalised, so that caches keep it
per visitor (see ``caching.py``). The request comes from the template context, or from
``rendering_context`` where the template rendered the block without one (``{{ block }}``).
"""

from django import forms
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.staticfiles import versioned_static
from wagtail.blocks.struct_block import StructBlockAdapter

from ..audience.conditions import Condition, Rule, first_match
from ..compat import register_telepath_adapter
from ..identity.caching import mark_personalised
from ..identity.resolvers import current_profile
from .choices import (
    StoredChoiceBlock,
    StoredMultipleChoiceBlock,
    category_choices,
    preference_choices,
    segment_choices,
)
from .rendering_context import request_and_page, unavailable


class ConditionBlock(blocks.StructBlock):
    """Who sees the content. Stores ids, so that deciding needs no query for the names."""

    rule = StoredChoiceBlock(
        choices=Rule.CHOICES, default=Rule.ANY, label=_("Preferences rule"), required=True
    )
    preferences = StoredMultipleChoiceBlock(
        choices=preference_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Preferences"),
        help_text=_("None ticked: the preferences do not matter."),
    )
    category = StoredChoiceBlock(
        choices=category_choices,
        required=False,
        label=_("And receives the category"),
    )
    segment = StoredChoiceBlock(
        choices=segment_choices,
        required=False,
        label=_("And is a member of the segment"),
    )

    class Meta:
        icon = "user"
        label = _("Show to visitors who")
        form_classname = "wagtail-preferences-condition"

    def condition(self, value) -> Condition:
        return Condition.from_value(value)

    def get_searchable_content(self, value):
        # Whom a section is for is not what the page says.
        return []


class ConditionBlockAdapter(StructBlockAdapter):
    """Gives the collapsed block a readable summary of the condition in the page editor."""

    js_constructor = "wagtail_preferences.blocks.ConditionBlock"

    def js_args(self, block):
        name, children, meta = super().js_args(block)
        meta["summary"] = {
            "everyone": str(_("Every recognised visitor")),
            "category": str(_("receives %s")),
            "segment": str(_("in segment %s")),
        }
        return [name, children, meta]

    @cached_property
    def media(self):
        parent = super().media
        return forms.Media(
            js=[*parent._js, versioned_static("wagtail_preferences/js/condition-block.js")],
            css=parent._css,
        )


register_telepath_adapter(ConditionBlockAdapter(), ConditionBlock)


def _optional(block: blocks.Block) -> blocks.Block:
    """``block`` built again with the same arguments, except that it may be left empty."""
    args, kwargs = block._constructor_args
    return type(block)(*args, **{**kwargs, "required": False})


def _profile(context):
    request, _ = request_and_page(context)
    if request is None:
        return None
    profile = current_profile(request)
    mark_personalised(request, private=profile is not None)
    return profile


def _blind_notice(block, context) -> str:
    """For developers, where ``block`` cannot see the visitor; empty where it can."""
    if request_and_page(context)[0] is not None:
        return ""
    return unavailable(
        _(
            "“%(block)s” was rendered without the request, so every visitor sees its "
            "fallback. Render the StreamField on a Wagtail page or with {%% include_block %%}, or "
            "add wagtail_preferences.identity.middleware.PersonalisationMiddleware to MIDDLEWARE."
        )
        % {"block": block.meta.label}
    )


class DynamicContentBlock(blocks.StructBlock):
    """Content for visitors who meet a condition, and fallback content for everyone else.

    ``content_block`` is the site's own block (usually a StreamBlock) that both parts hold.
    Unknown visitors see the fallback.
    """

    def __init__(self, content_block: blocks.Block, **kwargs):
        super().__init__(
            [
                ("condition", ConditionBlock()),
                ("content", content_block),
                ("fallback", _optional(content_block)),
            ],
            **kwargs,
        )

    class Meta:
        icon = "view"
        label = _("Dynamic content")
        label_format = "{condition}"
        description = _(
            "A section for visitors who hold given preferences, categories or segments, "
            "and a fallback for everyone else."
        )
        preview_template = "wagtail_preferences/blocks/previews/dynamic_content.html"
        help_text = _(
            "Shows the content to visitors who meet the condition, and the fallback (which may "
            "be empty) to everyone else, including visitors the site does not recognise."
        )

    def chosen_for(self, value, profile):
        """(part, block, value) that a contact with ``profile`` sees; ``part`` is
        ``"content"`` or ``"fallback"``. Emails decide from a profile, pages from a request."""
        matched = self.child_blocks["condition"].condition(value["condition"]).matches(profile)
        part = "content" if matched else "fallback"
        return part, self.child_blocks[part], value[part]

    def shown(self, value, context=None) -> str:
        """Which part the visitor in ``context`` sees: ``"content"`` or ``"fallback"``."""
        return self.chosen_for(value, _profile(context))[0]

    def render(self, value, context=None):
        if getattr(self.meta, "template", None):
            return super().render(value, context)
        part = self.shown(value, context)
        html = self.child_blocks[part].render(value[part], context)
        return format_html("{}{}", _blind_notice(self, context), html)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["shown"] = self.shown(value, parent_context)
        context["developer_notice"] = _blind_notice(self, parent_context)
        return context


class VariantBlock(blocks.StructBlock):
    class Meta:
        icon = "user"
        label = _("Variant")
        label_format = "{condition}"


class FirstMatchBlock(blocks.StructBlock):
    """Several variants of a section: the visitor sees the first whose condition they meet,
    or the default."""

    def __init__(self, content_block: blocks.Block, **kwargs):
        variant = VariantBlock([("condition", ConditionBlock()), ("content", content_block)])
        super().__init__(
            [
                ("variants", blocks.ListBlock(variant, min_num=1, label=_("Variants"))),
                ("default", _optional(content_block)),
            ],
            **kwargs,
        )

    class Meta:
        icon = "list-ul"
        label = _("First matching variant")
        label_format = "{variants}"
        description = _(
            "Several versions of a section: each visitor sees the first one meant for them, "
            "or the default."
        )
        preview_template = "wagtail_preferences/blocks/previews/first_match.html"
        help_text = _(
            "Visitors see the first variant whose condition they meet, in this order; "
            "everyone else, including visitors the site does not recognise, sees the default."
        )

    def chosen_for(self, value, profile):
        """(index, block, value) of the variant a contact with ``profile`` sees; the
        index is None for the default."""
        variants = list(value["variants"])
        condition_block = self.child_blocks["variants"].child_block.child_blocks["condition"]
        index = first_match(
            [condition_block.condition(variant["condition"]) for variant in variants], profile
        )
        if index is None:
            return None, self.child_blocks["default"], value["default"]
        content_block = self.child_blocks["variants"].child_block.child_blocks["content"]
        return index, content_block, variants[index]["content"]

    def chosen(self, value, context=None):
        """(block, value) of the part the visitor in ``context`` sees; the default if none."""
        return self.chosen_for(value, _profile(context))[1:]

    def render(self, value, context=None):
        if getattr(self.meta, "template", None):
            return super().render(value, context)
        block, chosen = self.chosen(value, context)
        return format_html("{}{}", _blind_notice(self, context), block.render(chosen, context))

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        block, context["chosen"] = self.chosen(value, parent_context)
        context["chosen_block"] = block
        context["developer_notice"] = _blind_notice(self, parent_context)
        return context
