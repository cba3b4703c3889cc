"""The text contact search looks in: first name, last name and email address in one string.

Searching one expression per term ("lena visitor", "visitor, lena", "lena@") lets a single
trigram index serve every term on PostgreSQL: migration 0013 creates it, as
``UPPER(<this expression>::text) gin_trgm_ops``, the form Django's ``icontains`` compares.
"""

from django.db.models import F, Func, TextField


class ContactSearchText(Func):
    """``first_name || ' ' || last_name || ' ' || email``, the same SQL on every database."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self):
        super().__init__(F("first_name"), F("last_name"), F("email"))
