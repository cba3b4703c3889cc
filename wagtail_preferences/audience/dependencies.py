"""What segment criteria read, and what a change to contacts touched, as comparable tags.

A tag is a kind (``preference``, ``category``, ``channel``, ``status``, ``details``,
``segment``, ``form``, ``time``), optionally followed by ``:`` and a key: ``preference:4``,
``details:email``, ``segment:12``. A tag without a key stands for every key of its kind.
A criterion depends on the tags its condition reads; a change reports the tags it wrote. A
segment needs refreshing after a change when one of its tags meets one of the change's.

``None`` stands for "everything": a change that does not say what it touched, or a
criterion that does not say what it reads. Tags are plain text, so they travel in task
arguments as a list.
"""

from collections.abc import Iterable

PREFERENCE = "preference"
CATEGORY = "category"
CHANNEL = "channel"
STATUS = "status"
DETAILS = "details"
SEGMENT = "segment"
FORM = "form"
#: Read by conditions on the current date ("within the last N days"). No change carries it:
#: only the scheduled refresh of every segment follows the clock.
TIME = "time"


def tag(kind: str, key=None) -> str:
    return kind if key is None else f"{kind}:{key}"


def tags(kind: str, keys: Iterable) -> set[str]:
    return {tag(kind, key) for key in keys}


def meet(changes: Iterable[str] | None, depends: Iterable[str] | None) -> bool:
    """Whether a change that touched ``changes`` can change what ``depends`` reads."""
    if changes is None or depends is None:
        return True
    touched: dict[str, set[str]] = {}
    for change in changes:
        kind, _, key = change.partition(":")
        touched.setdefault(kind, set()).add(key)
    for dependency in depends:
        kind, _, key = dependency.partition(":")
        keys = touched.get(kind)
        if keys is not None and (not key or "" in keys or key in keys):
            return True
    return False
