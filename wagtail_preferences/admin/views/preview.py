"""Preview a page as a visitor holding chosen preferences, or as an unknown visitor.

The page is rendered from its latest revision, draft included, through Wagtail's own preview
machinery; the dynamic blocks and template tags see the chosen profile instead of a contact.
"""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import Button
from wagtail.models import Page

from ...audience.profiles import Profile
from ...blocks.rendering_context import previewing
from ...identity.resolvers import PREVIEW_ATTRIBUTE
from ...models import Category, Preference, Segment

UNKNOWN, RECOGNISED = "unknown", "recognised"


class PreviewVisitorForm(forms.Form):
    visitor = forms.ChoiceField(
        label=_("Show the page to"),
        choices=[
            (RECOGNISED, _("A recognised visitor with these choices")),
            (UNKNOWN, _("A visitor the site does not recognise")),
        ],
        initial=RECOGNISED,
        widget=forms.RadioSelect,
    )
    preferences = forms.ModelMultipleChoiceField(
        Preference.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Holds the preferences"),
    )
    categories = forms.ModelMultipleChoiceField(
        Category.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Receives the categories"),
    )
    segments = forms.ModelMultipleChoiceField(
        Segment.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Is a member of the segments"),
    )

    def profile(self) -> Profile | None:
        data = self.cleaned_data
        if data["visitor"] == UNKNOWN:
            return None
        return Profile(
            preferences={p.pk: p.slug for p in data["preferences"]},
            categories={c.pk: c.slug for c in data["categories"]},
            segments={s.pk: s.slug for s in data["segments"]},
        )


def _page_for(request, page_id: int) -> Page:
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    return page


def _form(request) -> PreviewVisitorForm:
    if "visitor" not in request.GET:
        return PreviewVisitorForm(initial={"categories": Category.objects.all()})
    return PreviewVisitorForm(request.GET)


class PreviewAsVisitorView(WagtailAdminTemplateMixin, TemplateView):
    """The choices of the previewed visitor, and the page as they would see it."""

    page_title = _("Preview as a visitor")
    header_icon = "view"
    template_name = "wagtail_preferences/admin/preview_as_visitor.html"

    def dispatch(self, request, page_id):
        self.page = _page_for(request, page_id)
        return super().dispatch(request, page_id)

    def get_page_subtitle(self):
        return self.page.get_admin_display_title()

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtailadmin_pages:edit", args=[self.page.pk]), "label": self.page},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = _form(self.request)
        context["form"] = form
        context["page"] = self.page
        if form.is_bound and form.is_valid():
            render_url = reverse("wagtail_preferences_preview_render", args=[self.page.pk])
            context["render_url"] = f"{render_url}?{self.request.GET.urlencode()}"
        return context


def render_as_visitor(request, page_id: int):
    """The latest revision of the page, rendered for the visitor described in the query.

    Refusals are a plain 403: the admin's usual redirect to the dashboard would show the
    dashboard inside the preview frame.
    """
    try:
        page = _page_for(request, page_id)
    except PermissionDenied:
        return HttpResponseForbidden()
    form = _form(request)
    if not form.is_valid():
        return HttpResponseForbidden()
    draft = previewing(page.get_latest_revision_as_object())
    response = draft.make_preview_request(
        request, draft.default_preview_mode, {PREVIEW_ATTRIBUTE: form.profile()}
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    add_never_cache_headers(response)
    return response


def admin_urls():
    return [
        path(
            "preferences-preview/<int:page_id>/",
            PreviewAsVisitorView.as_view(),
            name="wagtail_preferences_preview",
        ),
        path(
            "preferences-preview/<int:page_id>/render/",
            render_as_visitor,
            name="wagtail_preferences_preview_render",
        ),
    ]


def header_buttons(page, user, view_name, next_url=None):
    """The "Preview as a visitor" button of a page's header, for those who may edit it."""
    if page.id and not page.is_root() and page.permissions_for_user(user).can_edit():
        yield Button(
            _("Preview as a visitor"),
            reverse("wagtail_preferences_preview", args=[page.id]),
            icon_name="view",
            priority=62,
        )
