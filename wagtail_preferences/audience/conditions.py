"""Conditions on what a contact holds, decided from a ``Profile`` rather than a request.

A condition is met when every part the editor filled in is met: the preferences rule (holds
any, all or none of the chosen preferences), the category (receives it) and the segment (is a
member). A condition with no parts is met by every recognised visitor. An unknown visitor,
who has no profile, meets no condition.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .profiles import Profile


class Rule:
    ANY = "any"
    ALL = "all"
    NONE = "none"

    CHOICES = [
        (ANY, _("Holds any of")),
        (ALL, _("Holds all of")),
        (NONE, _("Holds none of")),
    ]


@dataclass(frozen=True)
class Condition:
    rule: str = Rule.ANY
    preferences: frozenset[int] = frozenset()
    category: int | None = None
    segment: int | None = None

    @classmethod
    def from_value(cls, value) -> "Condition":
        """The condition a ``ConditionBlock`` value describes (ids are stored as text)."""
        return cls(
            rule=value.get("rule") or Rule.ANY,
            preferences=frozenset(filter(None, map(_id, value.get("preferences") or ()))),
            category=_id(value.get("category")),
            segment=_id(value.get("segment")),
        )

    def matches(self, profile: Profile | None) -> bool:
        if profile is None:
            return False
        if self.category is not None and not profile.subscribed_to(self.category):
            return False
        if self.segment is not None and not profile.in_segment(self.segment):
            return False
        return self._preferences_met(set(profile.preferences))

    def _preferences_met(self, held: set[int]) -> bool:
        if not self.preferences:
            return True
        if self.rule == Rule.ALL:
            return self.preferences <= held
        if self.rule == Rule.NONE:
            return not self.preferences & held
        return bool(self.preferences & held)


def _id(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def first_match(conditions, profile: Profile | None) -> int | None:
    """The index of the first condition ``profile`` meets, or None."""
    return next((i for i, condition in enumerate(conditions) if condition.matches(profile)), None)
