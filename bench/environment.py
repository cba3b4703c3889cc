"""Start Django for a benchmark script: pick the database, create it, migrate it."""

import os
import sys

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT_DIR = os.path.dirname(BENCH_DIR)


def setup(database_url: str | None = None, *, create: bool = True, migrate: bool = True) -> None:
    """Configure ``bench.settings`` for ``database_url`` (or ``DATABASE_URL``) and start Django.

    ``create`` makes a missing PostgreSQL database (or the SQLite file's folder); ``migrate``
    brings the schema up to date.
    """
    if ROOT_DIR not in sys.path:
        sys.path.insert(0, ROOT_DIR)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.makedirs(os.path.join(BENCH_DIR, "results"), exist_ok=True)
    if create and os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        create_postgres_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def create_postgres_database(database_url: str) -> None:
    """Create the database named in ``database_url`` if it does not exist yet."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    params = {"host": config["HOST"], "port": config["PORT"], "user": config["USER"]}
    params["password"] = config["PASSWORD"]
    params = {key: value for key, value in params.items() if value}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
