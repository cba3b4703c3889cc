"""Segment criteria: StreamField blocks whose values compile to a ``Q`` over contacts.

Each criterion block subclasses ``Criterion`` and implements ``to_q(value)`` with the rules of
``audience.compiler``, where each rule is defined once. A whole
segment combines its criteria with AND or OR into one condition, so counting or refreshing
a segment is one SQL query, never a loop over contacts in Python.
"""

import datetime
import re
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact, IContains
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks import StreamValue
from wagtail.snippets.blocks import SnippetChooserBlock

from ..channels.registry import channel_choices, get_channels
from ..conf import SETTINGS_NAME, get_setting
from ..exceptions import ConfigurationError
from ..models import ContactStatus
from . import compiler
from . import dependencies as needs

# Not digits alone: the database would read such a key as a position in a list.
DATA_KEY = re.compile(r"^(?!\d+$)[A-Za-z0-9_]+$")


class Criterion(blocks.StructBlock):
    """One condition on contacts.

    Subclasses define ``to_q(value) -> Q``, the condition as SQL. ``problems`` names what
    makes a value unusable (such as a deleted preference), so a segment can say so instead
    of failing; ``summary`` says in a few words what the condition is, for lists.
    ``dependencies`` names what the condition reads (``audience.dependencies`` tags), so that
    a change refreshes only the segments it can affect.
    """

    def problems(self, value) -> list[str]:
        return []

    def summary(self, value) -> str:
        return str(self.label)

    def referenced_segment_ids(self, value) -> set[int]:
        return set()

    def dependencies(self, value) -> set[str] | None:
        """The tags of what the condition reads; ``None``: anything (refreshed after every
        change)."""
        return None

    class Meta:
        icon = "filter"


def _choice_label(block, value) -> str:
    """The label of ``value`` among the choices of ``block`` (a ChoiceBlock)."""
    return str(dict(block.field.choices).get(value, value))


def _names(objects) -> str:
    return ", ".join(str(item) for item in objects if item is not None)


class PreferencesCriterion(Criterion):
    mode = blocks.ChoiceBlock(
        choices=[
            ("any", _("holds any of")),
            ("all", _("holds all of")),
            ("none", _("holds none of")),
        ],
        default="any",
    )
    preferences = blocks.ListBlock(
        SnippetChooserBlock("wagtail_preferences.Preference"), min_num=1, label=_("Preferences")
    )

    def _preferences(self, value):
        return [p for p in value["preferences"] if p is not None]

    def to_q(self, value) -> Q:
        rule = {"any": compiler.holds_any, "all": compiler.holds_all, "none": compiler.holds_none}
        return rule[value["mode"]](self._preferences(value))

    def dependencies(self, value) -> set[str]:
        return needs.tags(needs.PREFERENCE, (p.pk for p in self._preferences(value)))

    def summary(self, value) -> str:
        mode = _choice_label(self.child_blocks["mode"], value["mode"])
        return f"{mode} {_names(value['preferences'])}"

    def problems(self, value) -> list[str]:
        if len(self._preferences(value)) < len(value["preferences"]):
            return [_("A preference this criterion names has been deleted.")]
        if not value["preferences"]:
            return [_("Choose at least one preference.")]
        return []

    class Meta:
        label = _("Preferences")
        icon = "tasks"


class CategoryCriterion(Criterion):
    state = blocks.ChoiceBlock(
        choices=[("subscribed", _("subscribed to")), ("opted_out", _("opted out of"))],
        default="subscribed",
    )
    category = SnippetChooserBlock("wagtail_preferences.Category")

    def to_q(self, value) -> Q:
        if value["state"] == "opted_out":
            return compiler.opted_out_of(value["category"])
        return compiler.subscribed_to(value["category"])

    def dependencies(self, value) -> set[str]:
        return {needs.tag(needs.CATEGORY, getattr(value["category"], "pk", None))}

    def summary(self, value) -> str:
        state = _choice_label(self.child_blocks["state"], value["state"])
        return f"{state} {_names([value['category']])}"

    def problems(self, value) -> list[str]:
        if value["category"] is None:
            return [_("The category this criterion names has been deleted.")]
        return []

    class Meta:
        label = _("Category")
        icon = "folder-open-inverse"


class ChannelCriterion(Criterion):
    channel = blocks.ChoiceBlock(choices=channel_choices)
    state = blocks.ChoiceBlock(
        choices=[
            ("enabled", _("enabled")),
            ("disabled", _("disabled (do not contact)")),
            ("paused", _("paused today")),
        ],
        default="enabled",
    )

    def to_q(self, value) -> Q:
        channel, state = value["channel"], value["state"]
        if state == "paused":
            return compiler.paused_on(channel, timezone.localdate())
        if state == "disabled":
            return compiler.channel_disabled(channel)
        return compiler.channel_enabled(channel)

    def dependencies(self, value) -> set[str]:
        read = {needs.tag(needs.CHANNEL, value["channel"])}
        return read | {needs.TIME} if value["state"] == "paused" else read

    def summary(self, value) -> str:
        channel = _choice_label(self.child_blocks["channel"], value["channel"])
        return f"{channel} {_choice_label(self.child_blocks['state'], value['state'])}"

    def problems(self, value) -> list[str]:
        if value["channel"] not in get_channels():
            return [_("The channel this criterion names is no longer available.")]
        return []

    class Meta:
        label = _("Channel")
        icon = "mail"


class StatusCriterion(Criterion):
    status = blocks.ChoiceBlock(choices=ContactStatus.choices, default=ContactStatus.CONFIRMED)

    def to_q(self, value) -> Q:
        return Q(status=value["status"])

    def dependencies(self, value) -> set[str]:
        return {needs.STATUS}

    def summary(self, value) -> str:
        return _("status %(status)s") % {"status": ContactStatus(value["status"]).label}

    class Meta:
        label = _("Status")
        icon = "tick-inverse"


class EmailDomainCriterion(Criterion):
    domain = blocks.CharBlock(help_text=_("For example example.com; subdomains are not included."))

    def to_q(self, value) -> Q:
        return Q(email__endswith="@" + value["domain"].strip().lstrip("@").lower())

    def dependencies(self, value) -> set[str]:
        return {needs.tag(needs.DETAILS, "email")}

    def summary(self, value) -> str:
        return _("email at %(domain)s") % {"domain": value["domain"].strip().lstrip("@")}

    class Meta:
        label = _("Email domain")
        icon = "site"


class LocaleCriterion(Criterion):
    locale = blocks.CharBlock(help_text=_("A language (nl) also matches its regions (nl-BE)."))

    def to_q(self, value) -> Q:
        locale = value["locale"].strip()
        return Q(locale__iexact=locale) | Q(locale__istartswith=locale + "-")

    def dependencies(self, value) -> set[str]:
        return {needs.tag(needs.DETAILS, "locale")}

    def summary(self, value) -> str:
        return _("locale %(locale)s") % {"locale": value["locale"].strip()}

    class Meta:
        label = _("Locale")
        icon = "globe"


class NameCriterion(Criterion):
    text = blocks.CharBlock(label=_("Name contains"))

    def to_q(self, value) -> Q:
        text = value["text"].strip()
        return Q(first_name__icontains=text) | Q(last_name__icontains=text)

    def dependencies(self, value) -> set[str]:
        return needs.tags(needs.DETAILS, ["first_name", "last_name"])

    def summary(self, value) -> str:
        return _("name contains “%(text)s”") % {"text": value["text"].strip()}

    class Meta:
        label = _("Name")
        icon = "user"


class CreatedCriterion(Criterion):
    mode = blocks.ChoiceBlock(
        choices=[
            ("before", _("created before")),
            ("after", _("created on or after")),
            ("within", _("created within the last N days")),
        ],
        default="within",
    )
    date = blocks.DateBlock(required=False)
    days = blocks.IntegerBlock(required=False, min_value=1)

    def clean(self, value):
        value = super().clean(value)
        needed = "days" if value["mode"] == "within" else "date"
        if not value[needed]:
            raise blocks.StructBlockValidationError(
                {needed: ValidationError(_("This field is required here."))}
            )
        return value

    def to_q(self, value) -> Q:
        if value["mode"] == "within":
            return Q(created_at__gte=timezone.now() - datetime.timedelta(days=value["days"]))
        start = timezone.make_aware(datetime.datetime.combine(value["date"], datetime.time.min))
        return Q(created_at__lt=start) if value["mode"] == "before" else Q(created_at__gte=start)

    def dependencies(self, value) -> set[str]:
        read = {needs.tag(needs.DETAILS, "created_at")}
        return read | {needs.TIME} if value["mode"] == "within" else read

    def summary(self, value) -> str:
        if value["mode"] == "within":
            return _("created within the last %(days)s days") % {"days": value["days"]}
        mode = _choice_label(self.child_blocks["mode"], value["mode"])
        return f"{mode} {value['date'].isoformat()}"

    class Meta:
        label = _("Created")
        icon = "date"


class CustomDataCriterion(Criterion):
    key = blocks.CharBlock(help_text=_("Letters, digits and underscores; not digits alone."))
    operator = blocks.ChoiceBlock(
        choices=[("equals", _("equals")), ("contains", _("contains"))], default="equals"
    )
    value = blocks.CharBlock()

    def clean(self, value):
        value = super().clean(value)
        if not DATA_KEY.match(value["key"]):
            raise blocks.StructBlockValidationError(
                {
                    "key": ValidationError(
                        _("Use letters, digits and underscores; not digits alone.")
                    )
                }
            )
        return value

    def to_q(self, value) -> Q:
        # The value as text, so that 5 equals "5" and true equals "true" on every database;
        # the key is one key, never split at "__" into a path. Without the key, the text is
        # NULL: the key's presence is its own condition, so that NOT of this one is its
        # complement.
        text = Coalesce(
            Cast(KeyTextTransform(value["key"], "data"), TextField()), Value("", TextField())
        )
        lookup = IContains if value["operator"] == "contains" else Exact
        return Q(data__has_key=value["key"]) & Q(lookup(text, value["value"]))

    def dependencies(self, value) -> set[str]:
        return {needs.tag(needs.DETAILS, "data")}

    def summary(self, value) -> str:
        operator = _choice_label(self.child_blocks["operator"], value["operator"])
        return f"{value['key']} {operator} “{value['value']}”"

    class Meta:
        label = _("Custom data")
        icon = "code"


class SegmentCriterion(Criterion):
    mode = blocks.ChoiceBlock(
        choices=[("member", _("member of")), ("not_member", _("not a member of"))],
        default="member",
    )
    segment = SnippetChooserBlock("wagtail_preferences.Segment")

    def to_q(self, value) -> Q:
        member = compiler.member_of(value["segment"])
        return ~member if value["mode"] == "not_member" else member

    def dependencies(self, value) -> set[str]:
        return needs.tags(needs.SEGMENT, self.referenced_segment_ids(value))

    def summary(self, value) -> str:
        mode = _choice_label(self.child_blocks["mode"], value["mode"])
        return f"{mode} {_names([value['segment']])}"

    def problems(self, value) -> list[str]:
        if value["segment"] is None:
            return [_("The segment this criterion names has been deleted.")]
        return []

    def referenced_segment_ids(self, value) -> set[int]:
        return {value["segment"].pk} if value["segment"] is not None else set()

    class Meta:
        label = _("Other segment")
        icon = "group"


class FormSubmittedCriterion(Criterion):
    pages = blocks.ListBlock(
        blocks.PageChooserBlock(),
        default=[],
        label=_("On these pages"),
        help_text=_("Leave empty for a form on any page."),
    )
    days = blocks.IntegerBlock(
        required=False,
        min_value=1,
        label=_("Within the last N days"),
        help_text=_("Leave empty for any time."),
    )

    def to_q(self, value) -> Q:
        pages = [page.pk for page in value["pages"] if page is not None] or None
        since = timezone.now() - datetime.timedelta(days=value["days"]) if value["days"] else None
        return compiler.submitted_form(pages=pages, since=since)

    def dependencies(self, value) -> set[str]:
        return {needs.FORM, needs.TIME} if value["days"] else {needs.FORM}

    def summary(self, value) -> str:
        text = _("submitted a form")
        if pages := _names(value["pages"]):
            text = _("%(submitted)s on %(pages)s") % {"submitted": text, "pages": pages}
        if value["days"]:
            text = _("%(submitted)s within the last %(days)s days") % {
                "submitted": text,
                "days": value["days"],
            }
        return text

    def problems(self, value) -> list[str]:
        if any(page is None for page in value["pages"]):
            return [_("A page this criterion names has been deleted.")]
        return []

    class Meta:
        label = _("Submitted a form")
        icon = "form"


class SegmentCriteriaBlock(blocks.StreamBlock):
    preferences = PreferencesCriterion()
    category = CategoryCriterion()
    channel = ChannelCriterion()
    status = StatusCriterion()
    email_domain = EmailDomainCriterion()
    locale = LocaleCriterion()
    name = NameCriterion()
    created = CreatedCriterion()
    custom_data = CustomDataCriterion()
    segment = SegmentCriterion()
    form_submitted = FormSubmittedCriterion()


def criteria_block() -> SegmentCriteriaBlock:
    """The built-in criteria plus those listed in ``WAGTAIL_PREFERENCES["SEGMENT_CRITERIA"]``."""
    extra = []
    for name, path in get_setting("SEGMENT_CRITERIA").items():
        block_class = import_string(path)
        if name in SegmentCriteriaBlock.base_blocks or not (
            isinstance(block_class, type) and issubclass(block_class, Criterion)
        ):
            raise ConfigurationError(
                f"{SETTINGS_NAME}['SEGMENT_CRITERIA'][{name!r}]: {path} must be a Criterion "
                "subclass, under a name no built-in criterion has."
            )
        extra.append((name, block_class()))
    return SegmentCriteriaBlock(extra)


def load_criteria(streams) -> None:
    """Convert the criteria of many segments at once (``StreamValue``s of ``CriteriaField``).

    Each kind of criterion is converted in one go for all of them, so a list of segments
    reads each kind of chosen object (preferences, categories, pages, …) once, however long
    the list.
    """
    pending = defaultdict(list)
    for stream in streams:
        for index, raw in enumerate(stream._raw_data):
            if stream._bound_blocks[index] is None:
                pending[raw["type"]].append((stream, index, raw))
    # What StreamValue._prefetch_blocks does within one stream, done across streams: its
    # cache of converted children is filled, so reading the criteria later queries nothing.
    for kind, items in pending.items():
        block = items[0][0].stream_block.child_blocks[kind]
        values = block.bulk_to_python([raw["value"] for _stream, _index, raw in items])
        for (stream, index, raw), value in zip(items, values, strict=True):
            stream._bound_blocks[index] = StreamValue.StreamChild(block, value, id=raw.get("id"))
