from dataclasses import dataclass
from typing import Any

from ..models import ChangePath, ConsentEvent


@dataclass(frozen=True)
class Origin:
    """Who or what makes a change, and through which path; stamped on every consent event."""

    path: str
    user: Any = None
    reference: str = ""
    ip_address: str | None = None
    user_agent: str = ""
    wording: str = ""

    def __post_init__(self):
        # A block's default wording is a lazy translation: keep the text the visitor saw.
        object.__setattr__(self, "reference", str(self.reference))
        object.__setattr__(self, "wording", str(self.wording))

    @classmethod
    def from_request(cls, request, path: str = ChangePath.ADMIN, **kwargs) -> "Origin":
        user = getattr(request, "user", None)
        return cls(
            path=path,
            user=user if user is not None and user.is_authenticated else None,
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:1000],
            **kwargs,
        )

    def event(self, contact_id: int, subject: str, **fields) -> ConsentEvent:
        """An unsaved consent event for ``contact_id`` carrying this origin."""
        return ConsentEvent(
            contact_id=contact_id,
            subject=subject,
            path=self.path,
            reference=self.reference,
            actor=self.user,
            actor_label=self.user.get_username() if self.user is not None else "",
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            wording=self.wording,
            **fields,
        )
