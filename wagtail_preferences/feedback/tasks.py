"""The background work of provider feedback."""

from django_tasks import task

from . import rules


@task()
def process_provider_events(ids: list[int] | None = None) -> int:
    """Apply stored provider events (those of ``ids``, or every unprocessed one)."""
    return rules.process(ids)
