from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.snippets.views.snippets import DeleteView, IndexView, SnippetViewSet

from ... import services
from ...audience import compiler
from ...compat import listing_menu_item
from ...models import Category, Contact, Preference
from ...transfers.exports import FORMATS
from ..permissions import can_export
from .choosers import VisibleItemsChooserViewSet
from .contacts import ContactViewSet
from .mixins import OffersViewPermission, WithoutGenericExport


def contacts_export_url(file_format: str, **filters) -> str:
    """The export of the contact list with ``filters`` (its filter parameters)."""
    url = reverse(f"{ContactViewSet.name}:export", args=[file_format])
    return f"{url}?{urlencode(filters)}"


class ContactsLinksColumn(Column):
    """How many contacts an interest concerns, with links to list and export them."""

    cell_template_name = "wagtail_preferences/admin/tables/contacts_links_cell.html"

    def __init__(self, name, *, filter_param, **kwargs):
        super().__init__(name, sort_key=name, **kwargs)
        self.filter_param = filter_param

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        user = parent_context["request"].user
        url = reverse(f"{ContactViewSet.name}:index")
        context["contacts_url"] = f"{url}?{urlencode({self.filter_param: instance.pk})}"
        context["count"] = self.get_value(instance)
        if can_export(user):
            context["export_url"] = contacts_export_url("csv", **{self.filter_param: instance.pk})
        return context


class ExportMenuMixin:
    """Index views whose rows offer to export the contacts they concern.

    ``export_items`` holds (label, filter parameter) pairs; each label, with ``%(format)s``,
    becomes an item per file format.
    """

    export_items = ()

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_export(self.request.user):
            items = [(label, param, f) for label, param in self.export_items for f in FORMATS]
            # Between Wagtail's "Inspect" (20) and "Delete" (30).
            for priority, (label, param, file_format) in enumerate(items, start=21):
                buttons.append(
                    listing_menu_item(
                        label % {"format": file_format.upper()},
                        contacts_export_url(file_format, **{param: instance.pk}),
                        icon="download",
                        priority=priority,
                    )
                )
        return buttons


class PreferenceIndexView(ExportMenuMixin, WithoutGenericExport, IndexView):
    export_items = [(_("Export holders as %(format)s"), "preference")]

    def get_base_queryset(self):
        return super().get_base_queryset().with_contact_count()


class CategoryIndexView(ExportMenuMixin, WithoutGenericExport, IndexView):
    export_items = [
        (_("Export subscribed contacts as %(format)s"), "category_subscribed"),
        (_("Export opted-out contacts as %(format)s"), "category_opt_out"),
    ]

    def get_base_queryset(self):
        return super().get_base_queryset().with_opt_out_count()


class InterestDeleteView(DeleteView):
    """Names how many contacts a deletion concerns, and releases them through the services.

    Subclasses set ``affected_message`` (an ``ngettext_lazy(..., "count")`` using
    ``%(count)d`` and ``%(name)s``) and define ``affected_count()`` and ``release(origin)``.
    """

    affected_message = None

    @property
    def confirmation_message(self):
        count = self.affected_count()
        if not count:
            return super().confirmation_message
        return self.affected_message % {"count": count, "name": self.object.name}

    def delete_action(self):
        self.release(services.Origin.from_request(self.request))
        super().delete_action()


class PreferenceDeleteView(InterestDeleteView):
    affected_message = ngettext_lazy(
        "%(count)d contact holds “%(name)s”. Deleting it removes it from that contact; "
        "the contact's history keeps its name. Are you sure?",
        "%(count)d contacts hold “%(name)s”. Deleting it removes it from them all; "
        "their history keeps its name. Are you sure?",
        "count",
    )

    def affected_count(self) -> int:
        return Contact.objects.filter(compiler.holds_any([self.object])).count()

    def release(self, origin: services.Origin) -> None:
        services.release_preference(self.object, origin)


class CategoryDeleteView(InterestDeleteView):
    affected_message = ngettext_lazy(
        "%(count)d contact made a choice about “%(name)s”. Deleting it forgets that "
        "choice; the contact's history keeps its name. Are you sure?",
        "%(count)d contacts made a choice about “%(name)s”. Deleting it forgets their "
        "choices; their history keeps its name. Are you sure?",
        "count",
    )

    def affected_count(self) -> int:
        return self.object.contact_choices.count()

    def release(self, origin: services.Origin) -> None:
        services.release_category(self.object, origin)


class InterestViewSet(OffersViewPermission, SnippetViewSet):
    """What the preference, category and segment snippets share; the form shows every model
    field."""

    sort_order_field = "sort_order"
    copy_view_enabled = False
    chooser_viewset_class = VisibleItemsChooserViewSet
    # Listed under "Preference center" (a plain ViewSetGroup), so not in the "Snippets" menu.
    menu_item_is_registered = True


class PreferenceViewSet(InterestViewSet):
    model = Preference
    icon = "tasks"
    menu_label = _("Preferences")
    base_url_path = "preference-center/preferences"
    admin_url_namespace = "preference_center_preferences"
    index_view_class = PreferenceIndexView
    delete_view_class = PreferenceDeleteView
    list_display = [
        "name",
        "slug",
        BooleanColumn("is_public", label=_("Public")),
        ContactsLinksColumn(
            "contact_count", label=_("Contacts holding it"), filter_param="preference"
        ),
    ]


class CategoryViewSet(InterestViewSet):
    model = Category
    icon = "folder-open-inverse"
    menu_label = _("Categories")
    base_url_path = "preference-center/categories"
    admin_url_namespace = "preference_center_categories"
    index_view_class = CategoryIndexView
    delete_view_class = CategoryDeleteView
    list_display = [
        "name",
        "slug",
        ContactsLinksColumn(
            "opted_out_count", label=_("Contacts opted out"), filter_param="category_opt_out"
        ),
    ]
