"""JSON of bounded nesting: a contact's custom data comes from forms and files.

Python's JSON parser recurses once per level: text nested thousands of levels deep raises
``RecursionError``, which no caller expects. Depth is counted first, without recursion.
"""

import json
import re

#: The deepest nesting of objects and lists custom data may have.
MAX_DEPTH = 32
STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class TooDeep(json.JSONDecodeError):
    pass


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the objects and lists of JSON ``text`` nest more than ``limit`` levels."""
    depth = 0
    for bracket in NOT_BRACKETS.sub("", STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


class BoundedJSONDecoder(json.JSONDecoder):
    """A decoder that refuses (``TooDeep``, a ``ValueError``) nesting past ``MAX_DEPTH``."""

    def decode(self, s, *args, **kwargs):
        if too_deep(s):
            raise TooDeep(f"nested more than {MAX_DEPTH} levels deep", s, 0)
        return super().decode(s, *args, **kwargs)
