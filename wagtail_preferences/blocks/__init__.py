"""StreamField blocks for any page: add them to your own StreamBlocks."""

from .dynamic_content import ConditionBlock, DynamicContentBlock, FirstMatchBlock
from .preference_form import OfferedPreferenceBlock, PreferenceFormBlock

__all__ = [
    "ConditionBlock",
    "DynamicContentBlock",
    "FirstMatchBlock",
    "OfferedPreferenceBlock",
    "PreferenceFormBlock",
]
