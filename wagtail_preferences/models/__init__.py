from .campaigns import Campaign, CampaignStatus, PreferenceRule, WhenHeld
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
from .deliveries import Delivery, DeliveryOutcome, DeliveryStatus, SkipReason
from .email_changes import EmailChange
from .feedback import LeavingReason, UnsubscribeReason
from .interests import Category, Preference
from .messages import Message
from .paths import ChangePath
from .provider_events import Bounce, ProviderEvent, ProviderEventType
from .ratelimits import RateLimitCounter
from .refresh_queue import PendingRefresh, RefreshRequest
from .segments import MatchRule, Segment, SegmentInclusion, SegmentMember, SegmentOptOut
from .site_settings import PreferencePageSettings
from .submissions import FormSubmission, SubmissionStatus
from .suppressions import Suppression, SuppressionReason
from .tracking import CampaignLink, Engagement, EngagementKind, EngagementSource
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
    "ProviderEventType",
    "ProviderEvent",
    "EngagementSource",
    "EngagementKind",
    "Engagement",
    "DeliveryOutcome",
    "CampaignLink",
    "Bounce",
    "Campaign",
    "CampaignStatus",
    "Category",
    "CategoryChoice",
    "ChangePath",
    "ConsentEvent",
    "ConsentSubject",
    "Contact",
    "ContactChannel",
    "ContactExport",
    "ContactPreference",
    "ContactStatus",
    "Delivery",
    "DeliveryStatus",
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
    "Message",
    "Preference",
    "PendingRefresh",
    "RefreshRequest",
    "PreferencePageSettings",
    "PreferenceRule",
    "RateLimitCounter",
    "Segment",
    "SegmentInclusion",
    "SegmentMember",
    "SegmentOptOut",
    "SkipReason",
    "SubmissionStatus",
    "Suppression",
    "SuppressionReason",
    "UnsubscribeReason",
    "WhenHeld",
    "normalise_email",
]
