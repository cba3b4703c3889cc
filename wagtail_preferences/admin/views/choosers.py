"""Snippet choosers that show internal preferences and segments only to those who may see them.

Page editors choose preferences, categories and segments in blocks without any permission on
them; they see what visitors may see (public items). Users with any permission on the model
see everything, and so do editors of segments, whose criteria may name any of them.
"""

from wagtail.snippets.views import chooser

from ..permissions import can_edit_segments, can_see_all_of


def sees_everything(user, model) -> bool:
    return can_see_all_of(user, model) or can_edit_segments(user)


def visible_to(user, model):
    """The items of ``model`` that ``user`` may see in a chooser."""
    objects = model._default_manager.all()
    if sees_everything(user, model):
        return objects
    if any(field.name == "is_public" for field in model._meta.fields):
        return objects.filter(is_public=True)
    return objects


class VisibleItemsMixin:
    def get_object_list(self):
        return visible_to(self.request.user, self.model_class)


class ChooseView(VisibleItemsMixin, chooser.ChooseView):
    pass


class ChooseResultsView(VisibleItemsMixin, chooser.ChooseResultsView):
    pass


class ChosenView(chooser.SnippetChosenView):
    def get_object(self, pk):
        return visible_to(self.request.user, self.model_class).get(pk=pk)


class ChosenMultipleView(chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return visible_to(self.request.user, self.model_class).filter(pk__in=pks)


class VisibleItemsChooserViewSet(chooser.SnippetChooserViewSet):
    choose_view_class = ChooseView
    choose_results_view_class = ChooseResultsView
    chosen_view_class = ChosenView
    chosen_multiple_view_class = ChosenMultipleView
