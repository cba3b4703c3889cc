"""What the pages about one campaign share: their URLs and their permission check."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from ...models import Campaign
from ..permissions import can_see_campaigns, can_send_campaigns
from .overview import AdminPage

#: The campaigns viewset's name, which namespaces its URLs.
VIEWSET_NAME = "preference_center_campaigns"


def url(name: str, *args) -> str:
    return reverse(f"{VIEWSET_NAME}:{name}", args=args)


class CampaignPage(AdminPage):
    """A page about one campaign, for who may see campaigns."""

    header_icon = "mail"

    def dispatch(self, request, *args, **kwargs):
        if not can_see_campaigns(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def campaign(self) -> Campaign:
        return get_object_or_404(Campaign.objects.select_related("message"), pk=self.kwargs["pk"])

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": url("index"), "label": _("Campaigns")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            campaign=self.campaign, can_send=can_send_campaigns(self.request.user), **kwargs
        )
