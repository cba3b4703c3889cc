from django.db import transaction

from ..audience import compiler
from ..models import Category, Contact, Preference
from .categories import set_category_choices
from .origin import Origin
from .preferences import remove_preferences


@transaction.atomic
def release_preference(preference: Preference, origin: Origin) -> None:
    """Take ``preference`` from every holder, logged, before the preference is deleted."""
    remove_preferences(
        Contact.objects.filter(compiler.holds_any([preference])), [preference], origin
    )


@transaction.atomic
def release_category(category: Category, origin: Origin) -> None:
    """Forget every contact's choice for ``category``, logged, before it is deleted."""
    set_category_choices(
        Contact.objects.filter(category_choices__category=category), {category: None}, origin
    )
