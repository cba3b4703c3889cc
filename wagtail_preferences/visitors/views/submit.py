"""The endpoint every ``PreferenceFormBlock`` posts to."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.views.decorators.http import require_POST
from wagtail.models import Page

from ... import services, tasks
from ...blocks import PreferenceFormBlock
from ...blocks.location import find_block
from ...exceptions import RateLimited
from ...identity import resolvers
from ...models import ChangePath, SubmissionStatus, normalise_email
from .. import ratelimit
from ..emails import base_url_of
from ..forms import SubscriptionForm, form_prefix
from .rendering import rate_limited, serve_page_with_forms, visitor_page

PAGE_FIELD = "wagtail_preferences_page"
BLOCK_FIELD = "wagtail_preferences_block"


def _located(request):
    """The live page and the form block the post names, or (None, None)."""
    try:
        page = Page.objects.live().get(pk=int(request.POST.get(PAGE_FIELD, ""))).specific
    except (Page.DoesNotExist, ValueError):
        return None, None
    return page, find_block(page, PreferenceFormBlock, request.POST.get(BLOCK_FIELD, ""))


def _may_view(page, request) -> bool:
    return all(r.accept_request(request) for r in page.get_view_restrictions())


@require_POST
def submit(request):
    page, value = _located(request)
    if value is None or not _may_view(page, request):
        return visitor_page(request, "form_unavailable.html", status=400)
    key = request.POST[BLOCK_FIELD]
    try:
        ratelimit.hit("form_per_ip", ratelimit.client_ip(request))
        form = SubscriptionForm.for_block(value, key, request, data=request.POST)
        if not form.is_valid():
            return serve_page_with_forms(page, request, {key: form})
        if not form.is_spam:
            ratelimit.hit("form_per_email", form.cleaned_data["email"])
    except RateLimited as error:
        return rate_limited(request, error)
    result = "check_inbox" if value["double_opt_in"] else "thanks"
    later = None
    if not form.is_spam:
        post = _form_post(request, page, value, key, form)
        visitor = resolvers.current_contact(request)
        if visitor is not None and normalise_email(post["email"]) == visitor.email:
            # The visitor is this address's contact: nothing to hide, and their page shows
            # the change when they get there.
            submission = tasks.record_form_post(
                post, base_url_of(request), identified_as=visitor, update=form.is_update
            )
            if submission.status == SubmissionStatus.APPLIED:
                result = "saved"
        else:
            later = post
    response = _answer(request, page, value, key, result)
    if later is not None:
        # Known or unknown address, the request does the same: see decision 0009.
        tasks.enqueue_after_response(
            response, tasks.record_form_submission, later, base_url_of(request)
        )
    return response


def _answer(request, page, value, key, result):
    success_page = value["success_page"]
    if success_page is not None and success_page.live:
        return HttpResponseRedirect(success_page.get_url(request), status=303)
    query = urlencode({"wp-sent": key, "wp-result": result})
    return HttpResponseRedirect(f"{page.get_url(request)}?{query}#{form_prefix(key)}", status=303)


def _form_post(request, page, value, key, form) -> dict:
    origin = services.Origin.from_request(
        request, path=ChangePath.FORM, wording=value["consent_text"]
    )
    return tasks.form_post(
        origin,
        form.cleaned_data["email"],
        form.choices(),
        page=page.pk,
        block_key=key,
        form_label=value["heading"] or page.title,
        double_opt_in=value["double_opt_in"],
    )
