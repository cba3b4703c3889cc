from django.db import models


class RateLimitCounter(models.Model):
    """The attempts counted for one key in one window of a rate limit.

    Used when ``RATE_LIMIT_CACHE`` is a database cache, whose ``incr`` is a read then a write:
    here an ``UPDATE … SET attempts = attempts + 1`` counts every attempt exactly once.
    """

    key = models.CharField(max_length=200, primary_key=True)
    attempts = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts}"
