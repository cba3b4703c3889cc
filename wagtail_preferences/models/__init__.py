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
from .email_changes import EmailChange
from .feedback import LeavingReason, UnsubscribeReason
from .interests import Category, Preference
from .paths import ChangePath
from .ratelimits import RateLimitCounter
from .segments import MatchRule, Segment, SegmentInclusion, SegmentMember, SegmentOptOut
from .site_settings import PreferencePageSettings
from .submissions import FormSubmission, SubmissionStatus
from .transfers import (
    ContactExport,
    ExportPath,
    ImportMode,
    ImportRowError,
    ImportRun,
    ImportStatus,
    LegalBasis,
)

__all__ = [
    "Category",
    "CategoryChoice",
    "ChangePath",
    "ConsentEvent",
    "ConsentSubject",
    "Contact",
    "ContactChannel",
    "ContactPreference",
    "ContactExport",
    "ContactStatus",
    "EmailChange",
    "ExportPath",
    "FormSubmission",
    "FrequencyPeriod",
    "ImportMode",
    "ImportRowError",
    "ImportRun",
    "ImportStatus",
    "LeavingReason",
    "LegalBasis",
    "MatchRule",
    "Preference",
    "PreferencePageSettings",
    "RateLimitCounter",
    "Segment",
    "SegmentInclusion",
    "SegmentMember",
    "SegmentOptOut",
    "SubmissionStatus",
    "UnsubscribeReason",
    "normalise_email",
]
