"""StreamField blocks for any page: add them to your own StreamBlocks."""

from .dynamic_content import ConditionBlock, DynamicContentBlock, FirstMatchBlock
from .preference_form import PreferenceFormBlock

__all__ = [
    "ConditionBlock",
    "DynamicContentBlock",
    "FirstMatchBlock",
    "PreferenceFormBlock",
]
