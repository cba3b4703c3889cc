"""A trigram index for contact search on PostgreSQL (see wagtail_preferences/db/search.py).

pg_trgm is a trusted extension: a database owner may create it. A role that may not gets a
warning here and a search that reads the whole table; docs/installation.md says how to add
the index later.
"""

import warnings

from django.db import migrations, transaction
from django.db.utils import DatabaseError

INDEX = "wagtail_prefs_contact_search"
EXPRESSION = "UPPER((first_name || ' ' || last_name || ' ' || email)::text) gin_trgm_ops"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            warnings.warn(
                f"Contact search gets no index: the extension pg_trgm could not be created "
                f"({error}). See the installation guide.",
                stacklevel=1,
            )
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON wagtail_preferences_contact "
            f"USING gin ({EXPRESSION})"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("wagtail_preferences", "0012_provider_feedback_and_tracking")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
