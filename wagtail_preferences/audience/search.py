"""Finding contacts from what an editor types: a name, a full name in either order, or the
start of an email address."""

import re

from django.db.models import Q
from django.db.models.lookups import IContains

from ..db.search import ContactSearchText

#: Words of a query: split on spaces and commas ("Visitor, Lena").
TERM_SEPARATOR = re.compile(r"[\s,]+")
#: More words than this are not searched for: a longer query narrows nothing further.
MAX_TERMS = 5
#: Shorter words match the start of a name or address only: "a" anywhere matches nearly
#: everyone, and the trigram index cannot serve words under three characters.
SHORT_TERM = 3


def search_terms(query: str) -> list[str]:
    return [term for term in TERM_SEPARATOR.split(query.strip()) if term][:MAX_TERMS]


def matching(query: str) -> Q:
    """Contacts whose first name, last name or email address hold every word of ``query``
    (or, for a word of one or two characters, start with it)."""
    condition = Q()
    for term in search_terms(query):
        if len(term) < SHORT_TERM:
            condition &= (
                Q(first_name__istartswith=term)
                | Q(last_name__istartswith=term)
                | Q(email__startswith=term.lower())
            )
        else:
            condition &= Q(IContains(ContactSearchText(), term))
    return condition
