import json

from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from wagtail.fields import StreamField

#: The block of a segment's criteria, resolved when first needed: criteria compile to SQL
#: over these models (``audience.compiler``), so the models refer to them by path only.
CRITERIA_BLOCK = "wagtail_preferences.audience.criteria.criteria_block"

#: The block of a message's body, resolved when first needed, for the same reason: its
#: dynamic sections decide from profiles (``audience.profiles``), above the models.
MESSAGE_BODY_BLOCK = "wagtail_preferences.blocks.message_body.MessageBodyBlock"


class LazyStreamField(StreamField):
    """A StreamField whose block is named by dotted path (``block_path``) and built when
    first needed. The block is left out of migrations: changing it needs no migration.
    """

    block_path = ""

    def __init__(self, block_types=None, **kwargs):
        kwargs.pop("block_lookup", None)
        super().__init__(block_types, **kwargs)

    @cached_property
    def stream_block(self):
        block = self.block_types_arg
        if block is None:
            block = import_string(self.block_path)()
        block.set_meta_options(self.block_opts)
        return block

    def deconstruct(self):
        name, _, _, kwargs = super().deconstruct()
        kwargs.pop("block_lookup", None)
        cls = type(self)
        return name, f"{cls.__module__}.{cls.__qualname__}", [], kwargs


class CriteriaField(LazyStreamField):
    """A segment's (or a campaign's) criteria. Its block list comes from settings, so a site
    that adds a criterion needs no migration of this app.
    """

    block_path = CRITERIA_BLOCK

    def to_python(self, value):
        result = super().to_python(value)
        # Wagtail drops blocks of types it no longer knows; remember them, so that a segment
        # whose criterion type was uninstalled shows as invalid rather than widening.
        raw = json.loads(value) if isinstance(value, str) and value else value
        if isinstance(raw, list):
            kinds = {block.get("type") for block in raw if isinstance(block, dict)}
            result.unknown_types = sorted(kinds - self.stream_block.child_blocks.keys())
        return result


class MessageBodyField(LazyStreamField):
    """A message's body: headings, text, images, buttons, dividers and dynamic sections."""

    block_path = MESSAGE_BODY_BLOCK
