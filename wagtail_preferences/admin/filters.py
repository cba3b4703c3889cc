import django_filters
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet

from ..audience import compiler
from ..channels.registry import channel_choices
from ..models import Category, Contact, ContactStatus, Preference, Segment, normalise_email


class ContactEmailFilter(django_filters.CharFilter):
    """Rows about one contact, found by the whole address in any case."""

    def __init__(self, **kwargs):
        super().__init__(label=_("Contact email"), **kwargs)

    def filter(self, queryset, value):
        return queryset.filter(contact__email=normalise_email(value)) if value else queryset


class ContactFilterSet(WagtailFilterSet):
    """Filters of the admin contact list; each one is a single SQL condition."""

    preference = django_filters.ModelChoiceFilter(
        label=_("Holds preference"),
        queryset=Preference.objects.all(),
        method="filter_preference",
    )
    category_opt_out = django_filters.ModelChoiceFilter(
        label=_("Opted out of category"),
        queryset=Category.objects.all(),
        method="filter_category_opt_out",
    )
    category_subscribed = django_filters.ModelChoiceFilter(
        label=_("Subscribed to category"),
        queryset=Category.objects.all(),
        method="filter_category_subscribed",
    )
    segment = django_filters.ModelChoiceFilter(
        label=_("Member of segment"),
        queryset=Segment.objects.all(),
        method="filter_segment",
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ContactStatus.choices)
    channel_enabled = django_filters.ChoiceFilter(
        label=_("Channel enabled"), choices=channel_choices, method="filter_channel"
    )
    channel_disabled = django_filters.ChoiceFilter(
        label=_("Channel disabled (do not contact)"),
        choices=channel_choices,
        method="filter_channel",
    )

    class Meta:
        model = Contact
        fields = ["preference", "category_opt_out", "status"]

    def filter_preference(self, queryset, name, value):
        return queryset.filter(compiler.holds_any([value]))

    def filter_segment(self, queryset, name, value):
        return queryset.filter(compiler.member_of(value))

    def filter_category_opt_out(self, queryset, name, value):
        return queryset.filter(compiler.opted_out_of(value))

    def filter_category_subscribed(self, queryset, name, value):
        return queryset.filter(compiler.subscribed_to(value))

    def filter_channel(self, queryset, name, value):
        if name == "channel_enabled":
            return queryset.filter(compiler.channel_enabled(value))
        return queryset.filter(compiler.channel_disabled(value))
