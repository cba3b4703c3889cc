"""Finding a block in a page's StreamFields, and naming it so it can be found again.

A block's key is the id of the nearest stream or list child that holds it, followed by the
names of the struct fields below that child: stable across edits, unique within the page,
and the same whether the block sits at the top of a StreamField or deep inside other blocks.
"""

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.fields import StreamField

from .rendering_context import unavailable


def iter_blocks(page, block_class) -> Iterator[tuple[str, object]]:
    """(key, value) of every ``block_class`` block in the StreamFields of ``page``."""
    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            yield from _walk(field.stream_block, getattr(page, field.name), field.name, block_class)


def _walk(block, value, key, block_class):
    if value is None:
        return
    if isinstance(block, block_class):
        yield key, value
    elif isinstance(block, blocks.StreamBlock):
        for index, child in enumerate(value):
            yield from _walk(child.block, child.value, child.id or f"{key}.{index}", block_class)
    elif isinstance(block, blocks.ListBlock):
        children = getattr(value, "bound_blocks", None)
        if children is None:
            children = [blocks.BoundBlock(block.child_block, item) for item in value]
        for index, child in enumerate(children):
            child_key = getattr(child, "id", None) or f"{key}.{index}"
            yield from _walk(child.block, child.value, child_key, block_class)
    elif isinstance(block, blocks.StructBlock):
        for name, child_block in block.child_blocks.items():
            yield from _walk(child_block, value.get(name), f"{key}.{name}", block_class)


def block_key(page, block_class, value) -> str | None:
    """The key of the ``block_class`` block whose value is ``value`` (this very object)."""
    if page is None:
        return None
    return next((key for key, found in iter_blocks(page, block_class) if found is value), None)


def find_block(page, block_class, key: str):
    """The value of the ``block_class`` block with ``key`` on ``page``, or None."""
    return next((value for found, value in iter_blocks(page, block_class) if found == key), None)


def unplaced_notice(block, request) -> str:
    """For developers, where a block that must know its page is rendered without it.

    Previews (of a draft, or of a block in the editor) are not sent, so they say nothing.
    """
    if getattr(request, "is_preview", False):
        return ""
    return unavailable(
        _(
            "“%(block)s” was rendered without its page, so visitors cannot send it. Render "
            "it in a Wagtail page's StreamField, served by Wagtail, or with "
            "{%% include_block %%} in a template that has the page."
        )
        % {"block": block.meta.label}
    )
