"""Who the visitor is: the contact behind the current request, if any.

Resolvers are tried in order and the first contact found wins: a signed-in user linked to a
contact, then the signed cookie set when a visitor confirmed a subscription or followed a
manage link. The answer is worked out once per request.
"""

from . import tokens
from .conf import get_setting
from .exceptions import InvalidLink
from .models import Contact

_CACHE = "_wagtail_preferences_contact"


def from_user(request) -> Contact | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return Contact.objects.filter(user=user).first()


def from_cookie(request) -> Contact | None:
    token = request.COOKIES.get(get_setting("IDENTITY_COOKIE_NAME"))
    if not token:
        return None
    try:
        return tokens.contact_from_token(token, purpose="cookie")
    except InvalidLink:
        return None


RESOLVERS = (from_user, from_cookie)


def current_contact(request) -> Contact | None:
    """The contact the visitor is known to be, or None; looked up once per request."""
    if not hasattr(request, _CACHE):
        setattr(request, _CACHE, _resolve(request))
    return getattr(request, _CACHE)


def _resolve(request) -> Contact | None:
    for resolver in RESOLVERS:
        contact = resolver(request)
        if contact is not None:
            return contact
    return None


def remember(request, response, contact: Contact) -> None:
    """Recognise this browser as ``contact`` from now on: sets the signed identity cookie."""
    max_age = get_setting("IDENTITY_COOKIE_MAX_AGE")
    response.set_cookie(
        get_setting("IDENTITY_COOKIE_NAME"),
        tokens.contact_token(contact, purpose="cookie"),
        max_age=int(max_age.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    setattr(request, _CACHE, contact)


def forget(request, response) -> None:
    """Stop recognising this browser: deletes the identity cookie."""
    response.delete_cookie(get_setting("IDENTITY_COOKIE_NAME"), samesite="Lax")
    setattr(request, _CACHE, None)
