from django.db import models
from django.utils import timezone


class PendingRefresh(models.Model):
    """A contact whose segment memberships are due for a refresh by a background worker.

    Changes queue their contacts here when tasks run on a worker; the worker takes them in
    batches, so that many visitors' changes cost one refresh. A contact may be queued more
    than once: a batch refreshes each contact once.
    """

    contact = models.ForeignKey("Contact", on_delete=models.CASCADE, related_name="+")
    queued_at = models.DateTimeField(default=timezone.now)
    #: What the change touched, as dependency tags (``audience.dependencies``); null for
    #: anything.
    changes = models.JSONField(null=True)

    class Meta:
        verbose_name = "pending segment refresh"

    def __str__(self):
        return f"contact {self.contact_id}, queued {self.queued_at:%Y-%m-%d %H:%M:%S}"


class RefreshRequest(models.Model):
    """One row: when a worker was last asked to refresh the queued contacts and has not
    started yet (``None`` once it has). While a request waits, changes ask for no other."""

    requested_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"refresh requested at {self.requested_at}" if self.requested_at else "none"
