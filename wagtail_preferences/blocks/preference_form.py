from django.template.context_processors import csrf
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.snippets.blocks import SnippetChooserBlock

from ..rendering_context import request_and_page
from .location import block_key, unplaced_notice

FIELD_CHOICES = [
    ("hidden", _("Not asked")),
    ("optional", _("Optional")),
    ("required", _("Required")),
]


class OfferedPreferenceBlock(blocks.StructBlock):
    preference = SnippetChooserBlock("wagtail_preferences.Preference", label=_("Preference"))
    selected_by_default = blocks.BooleanBlock(
        required=False, label=_("Selected by default"), help_text=_("Ticked when the form opens.")
    )
    required = blocks.BooleanBlock(
        required=False,
        label=_("Required"),
        help_text=_("The visitor must tick it to send the form."),
    )

    class Meta:
        icon = "tick"
        label = _("Offered preference")


class PreferenceFormBlock(blocks.StructBlock):
    """An opt-in or update form, configured by the editor, sent to the app's own endpoint.

    The endpoint reads the block's settings from the published page again, so a visitor can
    only choose what the editor offered here.
    """

    mode = blocks.ChoiceBlock(
        choices=[
            ("opt_in", _("Opt-in: visitors subscribe")),
            ("update", _("Update: a recognised visitor sees and changes their choices")),
        ],
        default="opt_in",
        label=_("Kind of form"),
    )
    heading = blocks.CharBlock(required=False, label=_("Heading"))
    intro = blocks.TextBlock(required=False, label=_("Introduction"))
    first_name = blocks.ChoiceBlock(
        choices=FIELD_CHOICES, default="optional", label=_("First name")
    )
    last_name = blocks.ChoiceBlock(choices=FIELD_CHOICES, default="optional", label=_("Last name"))
    phone = blocks.ChoiceBlock(choices=FIELD_CHOICES, default="hidden", label=_("Phone"))
    preferences = blocks.ListBlock(
        OfferedPreferenceBlock(),
        default=[],
        label=_("Preferences offered"),
    )
    categories = blocks.ListBlock(
        SnippetChooserBlock("wagtail_preferences.Category", label=_("Category")),
        default=[],
        label=_("Categories offered"),
        help_text=_("Each is a box “Send me …”; a new contact who leaves it unticked opts out."),
    )
    segments = blocks.ListBlock(
        SnippetChooserBlock("wagtail_preferences.Segment", label=_("Segment")),
        default=[],
        label=_("Add to segments"),
        help_text=_("Contacts who send the form join these segments. Visitors do not see them."),
    )
    consent_text = blocks.TextBlock(
        label=_("Consent text"),
        default=_(
            "By subscribing you agree that we email you about the subjects you chose. "
            "Every email has a link to change your choices or unsubscribe."
        ),
        help_text=_("Shown above the button and kept with every submission, as proof."),
    )
    button_label = blocks.CharBlock(default=_("Subscribe"), label=_("Button label"))
    success_message = blocks.TextBlock(
        required=False,
        label=_("Success message"),
        help_text=_(
            "Shown after sending. Left blank: “check your inbox” with double opt-in, "
            "“thank you” without."
        ),
    )
    success_page = blocks.PageChooserBlock(
        required=False,
        label=_("Or go to this page"),
        help_text=_("Instead of the success message."),
    )
    double_opt_in = blocks.BooleanBlock(
        required=False,
        default=True,
        label=_("Double opt-in"),
        help_text=_(
            "Visitors confirm by a link in an email before anything changes. Strongly "
            "recommended: without it anyone can subscribe anyone's address."
        ),
    )

    class Meta:
        icon = "form"
        label = _("Preference form")
        template = "wagtail_preferences/blocks/preference_form.html"

    def clean(self, value):
        value = super().clean(value)
        offered = [item["preference"] for item in value["preferences"] if item["preference"]]
        problems = [
            _("“%(name)s” is internal: only public preferences can be offered to visitors.")
            % {"name": p.name}
            for p in offered
            if not p.is_public
        ]
        if len({p.pk for p in offered}) < len(offered):
            problems.append(_("A preference is offered twice."))
        categories = [c for c in value["categories"] if c]
        if len({c.pk for c in categories}) < len(categories):
            problems.append(_("A category is offered twice."))
        if problems:
            raise StructBlockValidationError(non_block_errors=problems)
        return value

    def get_context(self, value, parent_context=None):
        from ..visitor_forms import SubscriptionForm, form_prefix

        context = super().get_context(value, parent_context)
        request, page = request_and_page(context)
        key = block_key(page, type(self), value)
        context.update(request=request, page=page, form_key=key)
        # Ids stay unique and valid where the form cannot be used.
        context["anchor"] = form_prefix(key or f"unplaced-{id(value)}")
        if request is None or key is None:
            context["developer_notice"] = unplaced_notice(self, request)
            return context
        context.setdefault("csrf_token", csrf(request)["csrf_token"])
        sent = request.GET.get("wp-sent") == key
        context["sent"] = sent
        context["result"] = request.GET.get("wp-result", "")
        if not sent:
            context["form"] = getattr(request, "wagtail_preferences_forms", {}).get(
                key
            ) or SubscriptionForm.for_block(value, key, request=request)
        return context
