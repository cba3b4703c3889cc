"""Switching the task backend in a test, on every django-tasks version the matrix installs."""

from asgiref.local import Local

WORKER_BACKEND = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _handler():
    try:
        from django_tasks import task_backends
    except ImportError:  # django-tasks 0.7, which Wagtail 7.0 requires
        from django_tasks import tasks as task_backends
    return task_backends


def default_backend():
    """The default task backend, on every django-tasks version the matrix installs."""
    return _handler()["default"]


def forget_backends():
    # django-tasks 0.7 keeps its backends when TASKS changes; later versions forget them.
    handler = _handler()
    handler.__dict__.pop("settings", None)
    handler._settings = None
    handler._connections = Local(handler.thread_critical)


def use_tasks(settings, backends):
    """Tasks go to ``backends`` until the test ends (pytest-django's ``settings``); call
    ``forget_backends`` after the test so that the next one finds the default again."""
    settings.TASKS = backends
    forget_backends()
