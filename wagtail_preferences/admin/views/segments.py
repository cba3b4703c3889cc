from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django.views.generic import FormView, View
from wagtail.admin.panels import FieldPanel, Panel
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.snippets.views.snippets import IndexView

from ... import services
from ...audience.criteria import load_criteria
from ...compat import listing_menu_item
from ...models import MatchRule, Preference, Segment
from ...tasks import change_preference_for_segment
from ..permissions import can_change_contacts, can_edit_segments
from .interests import ContactsLinksColumn, ExportMenuMixin, InterestDeleteView, InterestViewSet
from .mixins import WithoutGenericExport


class SegmentIndexView(ExportMenuMixin, WithoutGenericExport, IndexView):
    export_items = [(_("Export members as %(format)s"), "segment")]

    def get_base_queryset(self):
        return super().get_base_queryset().with_member_count()

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        load_criteria(segment.criteria for segment in context["object_list"])
        return context

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_change_contacts(self.request.user):
            url = reverse(SegmentViewSet.admin_url_namespace + ":preferences", args=[instance.pk])
            buttons.append(
                listing_menu_item(
                    _("Assign or remove a preference"), url, icon="tasks", priority=50
                )
            )
        return buttons


class CriteriaColumn(Column):
    """What the criteria are, in short; invalid ones also say why, valid ones when the
    segment was last refreshed."""

    cell_template_name = "wagtail_preferences/admin/tables/criteria_cell.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["problems"] = instance.criteria_problems()
        separator = _(" or ") if instance.match == MatchRule.ANY else " · "
        context["summary"] = separator.join(instance.criteria_summary())
        context["refreshed_at"] = instance.refreshed_at
        return context


class MatchingCountPanel(Panel):
    """Shows, while the editor builds the criteria, how many contacts match them."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_preferences/admin/panels/matching_count.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            url = reverse(SegmentViewSet.admin_url_namespace + ":count")
            context["count_url"] = f"{url}?pk={self.instance.pk}" if self.instance.pk else url
            return context


class SegmentCountView(View):
    """Counts the contacts matching the criteria posted from the segment form."""

    http_method_names = ["post"]
    form_class = None

    def post(self, request):
        if not can_edit_segments(request.user):
            raise PermissionDenied
        instance = Segment.objects.filter(pk=request.GET.get("pk") or None).first() or Segment()
        form = self.form_class(request.POST, instance=instance, for_user=request.user)
        form.is_valid()
        if "criteria" not in form.cleaned_data:
            return JsonResponse({"message": str(_("Complete the criteria to see a count."))})
        segment = Segment(
            pk=instance.pk,
            match=form.cleaned_data.get("match") or instance.match,
            criteria=form.cleaned_data["criteria"],
        )
        problems = segment.criteria_problems()
        if problems:
            return JsonResponse({"message": " ".join(problems)})
        if not segment.criteria:
            return JsonResponse({"message": str(_("No criteria: only contacts added by hand."))})
        count = segment.matching_contacts().count()
        message = ngettext(
            "%(count)s contact matches these criteria.",
            "%(count)s contacts match these criteria.",
            count,
        ) % {"count": f"{count:,}"}
        return JsonResponse({"count": count, "message": message})


class SegmentPreferenceForm(forms.Form):
    preference = forms.ModelChoiceField(queryset=Preference.objects.all(), label=_("Preference"))
    action = forms.ChoiceField(
        choices=[
            ("add", _("Assign it to every member")),
            ("remove", _("Remove it from every member")),
        ],
        widget=forms.RadioSelect,
        initial="add",
        label=_("Action"),
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class SegmentPreferenceView(WagtailAdminTemplateMixin, FormView):
    """Assign or remove a preference for a whole segment, after a confirmation naming how
    many contacts it concerns. The change runs as a task, so a large segment never times
    out the request, and it is logged per contact.
    """

    form_class = SegmentPreferenceForm
    template_name = "wagtail_preferences/admin/segment_preference.html"
    header_icon = "tasks"

    def dispatch(self, request, pk):
        if not can_change_contacts(request.user):
            raise PermissionDenied
        self.segment = get_object_or_404(Segment, pk=pk)
        return super().dispatch(request)

    def get_page_title(self):
        return _("Preferences for segment “%(name)s”") % {"name": self.segment.name}

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(SegmentViewSet.admin_url_namespace + ":list"), "label": _("Segments")},
            {"url": "", "label": self.get_page_title()},
        ]

    @cached_property
    def member_count(self) -> int:
        return services.members(self.segment).count()

    def form_valid(self, form):
        if not form.cleaned_data["confirmed"]:
            return self.render_to_response(
                self.get_context_data(form=form, confirming=True, **form.cleaned_data)
            )
        preference, remove = (
            form.cleaned_data["preference"],
            form.cleaned_data["action"] == "remove",
        )
        result = change_preference_for_segment.enqueue(
            self.segment.pk, preference.pk, remove=remove, user_id=self.request.user.pk
        )
        if result.is_finished:
            messages.success(
                self.request,
                _("“%(preference)s” changed for %(count)s members of “%(segment)s”.")
                % {
                    "preference": preference.name,
                    "count": f"{result.return_value:,}",
                    "segment": self.segment.name,
                },
            )
        else:
            messages.success(
                self.request,
                _("The change of “%(preference)s” for “%(segment)s” is running in the background.")
                % {"preference": preference.name, "segment": self.segment.name},
            )
        return redirect(SegmentViewSet.admin_url_namespace + ":list")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            segment=self.segment, member_count=self.member_count, **kwargs
        )


class SegmentDeleteView(InterestDeleteView):
    affected_message = ngettext_lazy(
        "%(count)d contact is a member of “%(name)s”. Deleting it removes that contact from "
        "it; the contact's history keeps its name. Are you sure?",
        "%(count)d contacts are members of “%(name)s”. Deleting it removes them all from it; "
        "their history keeps its name. Are you sure?",
        "count",
    )

    def affected_count(self) -> int:
        return services.members(self.object).count()

    def release(self, origin: services.Origin) -> None:
        services.release_segment(self.object, origin)


class SegmentViewSet(InterestViewSet):
    model = Segment
    icon = "group"
    menu_label = _("Segments")
    base_url_path = "preference-center/segments"
    admin_url_namespace = "preference_center_segments"
    index_view_class = SegmentIndexView
    delete_view_class = SegmentDeleteView
    list_display = [
        "name",
        Column("get_match_display", label=_("Match")),
        ContactsLinksColumn("member_count", label=_("Members"), filter_param="segment"),
        CriteriaColumn("criteria", label=_("Criteria")),
    ]
    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("match"),
        FieldPanel("criteria"),
        MatchingCountPanel(heading=_("Matching contacts")),
        FieldPanel("preferences_on_join", widget=forms.CheckboxSelectMultiple),
        FieldPanel("is_public"),
        FieldPanel("sort_order"),
    ]

    def get_urlpatterns(self):
        count_view = SegmentCountView.as_view(form_class=self.get_form_class())
        return [
            *super().get_urlpatterns(),
            path("count/", count_view, name="count"),
            path("<int:pk>/preferences/", SegmentPreferenceView.as_view(), name="preferences"),
        ]
