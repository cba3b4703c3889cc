from .consent import ConsentEvent, ConsentSubject
from .contacts import (
    CategoryChoice,
    Contact,
    ContactChannel,
    ContactPreference,
    ContactStatus,
    FrequencyPeriod,
    normalise_email,
)
from .interests import Category, Preference
from .paths import ChangePath
from .segments import MatchRule, Segment, SegmentInclusion, SegmentMember, SegmentOptOut

__all__ = [
    "Category",
    "CategoryChoice",
    "ChangePath",
    "ConsentEvent",
    "ConsentSubject",
    "Contact",
    "ContactChannel",
    "ContactPreference",
    "ContactStatus",
    "FrequencyPeriod",
    "MatchRule",
    "Preference",
    "Segment",
    "SegmentInclusion",
    "SegmentMember",
    "SegmentOptOut",
    "normalise_email",
]
