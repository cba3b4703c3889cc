from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.base import ViewSetGroup

from .views.campaigns import CampaignViewSet
from .views.consent_log import ConsentEventViewSet
from .views.contacts import ContactViewSet
from .views.exports import ContactExportViewSet
from .views.imports import ImportViewSet
from .views.interests import CategoryViewSet, PreferenceViewSet
from .views.messages import MessageViewSet
from .views.overview import OverviewViewSet
from .views.segments import SegmentViewSet
from .views.submissions import FormSubmissionViewSet
from .views.suppressions import SuppressionViewSet


class PreferenceCenterGroup(ViewSetGroup):
    """The admin menu "Preference center"."""

    menu_label = _("Preference center")
    menu_icon = "tasks"
    menu_order = 250
    items = (
        OverviewViewSet,
        ContactViewSet,
        PreferenceViewSet,
        CategoryViewSet,
        SegmentViewSet,
        MessageViewSet,
        CampaignViewSet,
        FormSubmissionViewSet,
        SuppressionViewSet,
        ImportViewSet,
        ContactExportViewSet,
        ConsentEventViewSet,
    )
