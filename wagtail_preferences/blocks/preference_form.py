from django import forms
from django.template.context_processors import csrf
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError

from .choices import (
    StoredMultipleChoiceBlock,
    category_choices,
    public_preference_choices,
    segment_choices,
)
from .location import block_key, unplaced_notice
from .rendering_context import request_and_page

FIELD_CHOICES = [
    ("hidden", _("Not asked")),
    ("optional", _("Optional")),
    ("required", _("Required")),
]

#: Settings that are not shown to visitors, so not given to API clients either.
PRIVATE_SETTINGS = ("segments",)

#: Each box group that must be a part of another: (group, the group it is part of).
SUBSETS = (
    ("preselected_preferences", "preferences"),
    ("required_preferences", "preferences"),
    ("ticked_categories", "categories"),
)


def _boxes(choices, **kwargs) -> StoredMultipleChoiceBlock:
    return StoredMultipleChoiceBlock(
        choices=choices,
        required=False,
        default=[],
        search_index=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


def _list_items(raw) -> list:
    """The values of a list block's stored data, in its old shape or its current one."""
    return [
        item["value"] if isinstance(item, dict) and {"type", "value"} <= item.keys() else item
        for item in raw or []
    ]


def current_shape(value: dict) -> dict:
    """A stored form in the current shape.

    Forms saved before the offered preferences, categories and segments became checkboxes
    stored a list of choosers, each preference with its own "selected by default" and
    "required"; they are read as the same choices.
    """
    value = dict(value)
    offered = _list_items(value.get("preferences"))
    if any(isinstance(item, dict) for item in offered):
        kept = [item for item in offered if isinstance(item, dict) and item.get("preference")]
        value["preferences"] = [str(item["preference"]) for item in kept]
        for name, flag in (
            ("preselected_preferences", "selected_by_default"),
            ("required_preferences", "required"),
        ):
            value[name] = [str(item["preference"]) for item in kept if item.get(flag)]
    for name in ("categories", "segments"):
        if name in value:
            value[name] = [str(item) for item in _list_items(value[name]) if item]
    return value


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
        search_index=False,
    )
    recognised = blocks.ChoiceBlock(
        choices=[
            ("update_form", _("Their own choices, to update")),
            ("line", _("A line: “You are subscribed as …”, with a link to their preferences")),
        ],
        default="update_form",
        label=_("A subscriber the site recognises sees"),
        help_text=_("Opt-in forms: instead of an empty sign-up form."),
        search_index=False,
    )
    heading = blocks.CharBlock(required=False, label=_("Heading"))
    intro = blocks.TextBlock(required=False, label=_("Introduction"))
    first_name = blocks.ChoiceBlock(
        choices=FIELD_CHOICES, default="optional", label=_("First name"), search_index=False
    )
    last_name = blocks.ChoiceBlock(
        choices=FIELD_CHOICES, default="optional", label=_("Last name"), search_index=False
    )
    phone = blocks.ChoiceBlock(
        choices=FIELD_CHOICES, default="hidden", label=_("Phone"), search_index=False
    )
    preferences = _boxes(
        public_preference_choices,
        label=_("Preferences offered"),
        help_text=_("Only public preferences can be offered."),
    )
    preselected_preferences = _boxes(
        public_preference_choices,
        label=_("Ticked when the form opens"),
        help_text=_("Among the preferences offered."),
    )
    required_preferences = _boxes(
        public_preference_choices,
        label=_("Must be ticked"),
        help_text=_("Among the preferences offered: the visitor must tick them to send the form."),
    )
    categories = _boxes(
        category_choices,
        label=_("Categories offered"),
        help_text=_(
            "Each is a box “Send me …”. A visitor who sends the form with a box unticked "
            "does not receive that category."
        ),
    )
    ticked_categories = _boxes(
        category_choices,
        label=_("Category boxes that start ticked"),
        help_text=_("Among the categories offered; the others start unticked."),
    )
    segments = _boxes(
        segment_choices,
        label=_("Add to segments"),
        help_text=_(
            "Contacts who send the form join these segments. Visitors do not see them, and "
            "neither does the API."
        ),
    )
    consent_text = blocks.TextBlock(
        label=_("Consent text"),
        default=_(
            "By subscribing you agree that we email you about the subjects you chose. "
            "Every email has a link to change your choices or unsubscribe."
        ),
        help_text=_("Shown above the button and kept with every submission, as proof."),
        search_index=False,
    )
    button_label = blocks.CharBlock(
        default=_("Subscribe"), label=_("Button label"), search_index=False
    )
    success_message = blocks.TextBlock(
        required=False,
        label=_("Success message"),
        help_text=_(
            "Shown after sending. Left blank: “check your inbox” with double opt-in, "
            "“thank you” without."
        ),
        search_index=False,
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
        label_format = "{heading}"
        template = "wagtail_preferences/blocks/preference_form.html"
        preview_template = "wagtail_preferences/blocks/previews/base.html"
        description = _(
            "A sign-up or update form: the visitor's details, the preferences and categories "
            "you offer, and the consent text kept with every submission."
        )

    def to_python(self, value):
        return super().to_python(current_shape(value))

    def bulk_to_python(self, values):
        return super().bulk_to_python([current_shape(value) for value in values])

    def clean(self, value):
        value = super().clean(value)
        problems = [
            _("“%(part)s” can only hold what “%(whole)s” holds.")
            % {
                "part": self.child_blocks[part].label,
                "whole": self.child_blocks[whole].label,
            }
            for part, whole in SUBSETS
            if not set(value[part]) <= set(value[whole])
        ]
        if problems:
            raise StructBlockValidationError(non_block_errors=problems)
        return value

    def get_api_representation(self, value, context=None):
        representation = super().get_api_representation(value, context)
        for name in PRIVATE_SETTINGS:
            representation.pop(name, None)
        return representation

    def extract_references(self, value):
        from ..models import Category, Preference, Segment

        yield from super().extract_references(value)
        for name, model in (
            ("preferences", Preference),
            ("categories", Category),
            ("segments", Segment),
        ):
            for pk in value[name] or ():
                yield model, str(pk), name, name

    def get_preview_value(self):
        from ..models import Category, Preference

        value = self.get_default()
        public = Preference.objects.filter(is_public=True)
        preferences = [str(pk) for pk in public.values_list("pk", flat=True)[:3]]
        categories = [str(pk) for pk in Category.objects.values_list("pk", flat=True)[:2]]
        value.update(
            heading=_("Stay in touch"),
            intro=_("Tick what interests you."),
            preferences=preferences,
            preselected_preferences=preferences[:1],
            categories=categories,
            ticked_categories=categories,
        )
        return value

    def get_preview_context(self, value, parent_context=None):
        from ..visitors.forms import SubscriptionForm

        context = super().get_preview_context(value, parent_context)
        context["form"] = SubscriptionForm(value, prefix="wp-preview")
        return context

    def get_context(self, value, parent_context=None):
        from ..visitors.forms import SubscriptionForm, form_prefix

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
