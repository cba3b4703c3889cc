"""StreamField blocks for any page: add them to your own StreamBlocks."""

from .preference_form import OfferedPreferenceBlock, PreferenceFormBlock

__all__ = ["OfferedPreferenceBlock", "PreferenceFormBlock"]
