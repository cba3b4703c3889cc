"""Preview a message as one contact, or as a contact holding chosen preferences, and send
the result to oneself as a test.

Messages are rendered from their latest revision, drafts included.
"""

from dataclasses import replace

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from ...audience.profiles import profile_of
from ...channels.email import EmailChannel
from ...messaging.preview import EMAIL, preview_email, preview_response, sample_contact
from ...models import Category, Contact, Message
from ..permissions import can_edit_messages
from .preview import PreviewVisitorForm

#: The widths, in CSS pixels, the email is shown at: a phone's and a desktop's.
WIDTHS = (390, 1280)


class MessagePreviewForm(PreviewVisitorForm):
    """Whom to preview for: a contact found by address, or a contact holding the choices."""

    email = forms.EmailField(
        label=gettext_lazy("A contact's email address"),
        required=False,
        help_text=gettext_lazy("Given: the message as this contact receives it."),
    )

    field_order = ["email"]

    def clean_email(self):
        email = self.cleaned_data["email"]
        if not email:
            return None
        contact = Contact.objects.filter(email__iexact=email).first()
        if contact is None:
            raise ValidationError(_("No contact has this email address."))
        return contact

    def recipient(self):
        """(contact, profile) to render for."""
        contact = self.cleaned_data["email"]
        if contact is not None:
            return contact, profile_of(contact)
        return sample_contact(), self.profile()


def _form(request) -> MessagePreviewForm:
    """The choices, from the query string (the test is sent with the same query)."""
    if "visitor" not in request.GET:
        return MessagePreviewForm(initial={"categories": Category.objects.all()})
    return MessagePreviewForm(request.GET)


def _url(name: str, message: Message) -> str:
    return reverse(f"preference_center_messages:{name}", args=[message.pk])


def _message_for(request, pk: int) -> Message:
    """The latest revision of the message, for a user who may edit messages."""
    if not can_edit_messages(request.user):
        raise PermissionDenied
    return get_object_or_404(Message, pk=pk).get_latest_revision_as_object()


class PreviewAsView(WagtailAdminTemplateMixin, TemplateView):
    """The choices of whom to preview for, and the email as they receive it."""

    page_title = gettext_lazy("Preview as…")
    header_icon = "view"
    template_name = "wagtail_preferences/admin/message_preview.html"

    def dispatch(self, request, pk):
        self.message = _message_for(request, pk)
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return str(self.message)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("preference_center_messages:list"), "label": _("Messages")},
            {"url": _url("edit", self.message), "label": str(self.message)},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = _form(self.request)
        context.update(form=form, message=self.message, widths=WIDTHS)
        if form.is_bound and form.is_valid():
            query = self.request.GET.urlencode()
            context["email"] = preview_email(self.message, *form.recipient())
            context["html_url"] = f"{_url('preview_as_html', self.message)}?{query}"
            context["send_url"] = f"{_url('send_test', self.message)}?{query}"
        return context


def render_html(request, pk: int):
    """The email's HTML for the contact described in the query, shown in a frame.

    Refusals are a plain 403: the admin's usual redirect would show the dashboard inside
    the frame.
    """
    try:
        message = _message_for(request, pk)
    except PermissionDenied:
        return HttpResponseForbidden()
    form = _form(request)
    if not form.is_valid():
        return HttpResponseForbidden()
    response = preview_response(message, *form.recipient(), EMAIL)
    response["X-Frame-Options"] = "SAMEORIGIN"
    add_never_cache_headers(response)
    return response


@require_POST
def send_test(request, pk: int):
    """Send the email, as previewed, to the signed-in editor's own address."""
    try:
        message = _message_for(request, pk)
    except PermissionDenied:
        return HttpResponseForbidden()
    form = _form(request)
    back = f"{_url('preview_as', message)}?{request.GET.urlencode()}"
    if not form.is_valid():
        messages.error(request, _("Choose whom to preview the message for first."))
        return redirect(back)
    if not request.user.email:
        messages.error(request, _("Your account has no email address to send the test to."))
        return redirect(back)
    email = preview_email(message, *form.recipient())
    test = replace(email, address=request.user.email, subject=_("[Test] %s") % email.subject)
    [result] = EmailChannel().send_batch([test])
    if result.is_sent:
        messages.success(request, _("The test was sent to %s.") % request.user.email)
    else:
        messages.error(request, _("The test could not be sent: %s") % result.error)
    return redirect(back)
