"""The suppression list: addresses nothing is sent to, with the reason and the evidence.

Editors add a block by hand and lift one (the ``delete`` permission); both go through
``services.suppressions`` and are written to the consent log. The evidence is never edited.
"""

import json

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log

from ...channels.registry import get_channels
from ...compat import listing_menu_item, pk_path_converter
from ...models import ChangePath, ProviderEvent, Suppression, SuppressionReason
from ...services import Origin, suppressions
from .columns import InspectInWordsMixin, LocalTimeColumn
from .mixins import WithoutGenericExport

EVIDENCE_LABELS = {
    "provider": _("Provider"),
    "event_id": _("Provider's event id"),
    "event": _("Event"),
    "bounce": _("Bounce"),
    "description": _("Provider's description"),
    "occurred_at": _("When it happened"),
    "by": _("Blocked by"),
}


def channel_choices():
    return [(key, channel.label) for key, channel in get_channels().items()]


class SuppressionFilterSet(WagtailFilterSet):
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=SuppressionReason.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=channel_choices)

    class Meta:
        model = Suppression
        fields = ["reason", "channel"]


class BlockAddressForm(WagtailAdminModelForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=channel_choices)

    class Meta:
        model = Suppression
        fields = ["channel", "address"]

    def clean(self):
        data = super().clean()
        if data.get("channel") and data.get("address"):
            data["address"] = suppressions.normalise_address(data["channel"], data["address"])
            if Suppression.objects.filter(channel=data["channel"], address=data["address"]):
                raise ValidationError(_("This address is already blocked on this channel."))
        return data

    def validate_unique(self):
        """``clean`` says it in words of its own."""


class SuppressionIndexView(WithoutGenericExport, generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = [
            button
            for button in super().get_list_more_buttons(instance)
            if getattr(button, "url", None) != self.get_delete_url(instance)
        ]
        if url := self.get_delete_url(instance):
            buttons.append(listing_menu_item(_("Lift block"), url, icon="undo", priority=30))
        return buttons


class BlockAddressView(generic.CreateView):
    page_title = _("Block an address")
    success_message = _("%(object)s blocked.")

    def save_instance(self):
        data = self.form.cleaned_data
        origin = Origin.from_request(
            self.request, path=ChangePath.ADMIN, reference=str(_("Blocked by an editor"))
        )
        evidence = {"by": self.request.user.get_username()}
        blocked = suppressions.block(
            data["channel"], data["address"], SuppressionReason.MANUAL, origin, evidence
        )
        if blocked:
            log(instance=blocked, action="wagtail.create", user=self.request.user)
        return blocked or Suppression.objects.get(channel=data["channel"], address=data["address"])

    def get_success_buttons(self):
        return []


class SuppressionInspectView(InspectInWordsMixin, generic.InspectView):
    fields = ["address", "channel", "reason", "created_at", "evidence"]

    def get_evidence_display_value(self):
        evidence = self.object.evidence or {}
        event = ProviderEvent.objects.filter(pk=evidence.get("provider_event")).first()
        return render_to_string(
            "wagtail_preferences/admin/suppressions/evidence.html",
            {
                "evidence": [
                    (EVIDENCE_LABELS[key], evidence[key])
                    for key in EVIDENCE_LABELS
                    if key in evidence
                ],
                "provider_event": event and json.dumps(event.payload, indent=2, sort_keys=True),
            },
        )


class LiftBlockView(generic.DeleteView):
    page_title = _("Lift block")
    template_name = "wagtail_preferences/admin/suppressions/lift.html"
    success_message = _("The block of %(object)s is lifted.")

    @property
    def confirmation_message(self):
        return _(
            "Messages may be sent to %(address)s on this channel again, if its contact's "
            "choices allow them. The change is written to the contact's consent log."
        ) % {"address": self.object.address}

    def delete_action(self):
        origin = Origin.from_request(
            self.request, path=ChangePath.ADMIN, reference=str(_("Block lifted by an editor"))
        )
        # Logged first: Wagtail's log keeps the address even when no contact has it.
        log(instance=self.object, action="wagtail.delete", user=self.request.user)
        suppressions.lift(self.object, origin)


class SuppressionViewSet(ModelViewSet):
    """Blocked addresses: listed, inspected with their evidence, blocked and lifted by hand."""

    model = Suppression
    name = "preference_center_suppressions"
    url_prefix = "preference-center/suppressed"
    icon = "warning"
    menu_label = _("Suppressed addresses")
    add_to_reference_index = False
    copy_view_enabled = False
    inspect_view_enabled = True
    index_view_class = SuppressionIndexView
    add_view_class = BlockAddressView
    inspect_view_class = SuppressionInspectView
    delete_view_class = LiftBlockView
    form_fields = ["channel", "address"]
    filterset_class = SuppressionFilterSet
    search_fields = ["address"]
    default_ordering = "-created_at"
    list_display = [
        "address",  # links to the evidence, with the row's "Lift block"
        Column("channel", label=_("Channel")),
        Column("get_reason_display", label=_("Reason"), sort_key="reason"),
        LocalTimeColumn("created_at", label=_("Blocked")),
    ]

    def get_form_class(self, for_update=False):
        return BlockAddressForm

    def get_permissions_to_register(self):
        return super().get_permissions_to_register().exclude(codename__startswith="change_")

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            **{"edit_url_name": None, "history_url_name": None, "usage_url_name": None, **kwargs}
        )

    def get_urlpatterns(self):
        converter = pk_path_converter(self)
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("new/", self.add_view, name="add"),
            path(f"inspect/<{converter}:pk>/", self.inspect_view, name="inspect"),
            path(f"lift/<{converter}:pk>/", self.delete_view, name="delete"),
        ]
