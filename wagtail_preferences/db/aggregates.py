from django.db.models import Aggregate, TextField


class JoinedText(Aggregate):
    """Values as text joined by commas, in no particular order.

    ``GROUP_CONCAT`` on SQLite and MySQL, ``STRING_AGG`` on PostgreSQL (which takes text only,
    so the values are cast).
    """

    function = "GROUP_CONCAT"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s((%(expressions)s)::text, ',')",
            **extra_context,
        )
