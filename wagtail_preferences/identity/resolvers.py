"""Who the visitor is: the contact behind the current request, if any.

Resolvers are functions that take a request and give a ``Contact`` or ``None``. They are
tried in the order of ``WAGTAIL_PREFERENCES["IDENTITY_RESOLVERS"]`` and the first contact found
wins; by default a signed-in user linked to a contact, then a signed token on a link from an
email, then the signed cookie set when a visitor confirmed a subscription or followed a link.
The answer is worked out once per request, and the contact is read with its profile in the
same query.
"""

from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.http import HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.utils.encoding import escape_uri_path
from django.utils.module_loading import import_string

from ..audience import profiles
from ..conf import get_setting
from ..exceptions import InvalidLink
from ..models import Contact
from . import tokens

_CACHE = "_wagtail_preferences_contact"
_PROFILE = "_wagtail_preferences_profile"
#: A request with this attribute is an editor's preview "as a visitor": its value is the
#: profile to show the page to, and no real contact is recognised.
PREVIEW_ATTRIBUTE = "wagtail_preferences_preview_profile"


def from_user(request) -> Contact | None:
    """The contact linked to the signed-in site user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return profiles.contact_with_profile(user_id=user.pk)


def from_link_token(request) -> Contact | None:
    """The contact named by the signed token of a link from an email (``?wpt=…``)."""
    return _contact_from(request.GET.get(get_setting("LINK_TOKEN_PARAMETER")), "link")


def from_cookie(request) -> Contact | None:
    """The contact named by the signed identity cookie."""
    return _contact_from(request.COOKIES.get(get_setting("IDENTITY_COOKIE_NAME")), "cookie")


def _contact_from(token: str | None, purpose: str) -> Contact | None:
    if not token:
        return None
    try:
        return tokens.contact_from_token(token, purpose=purpose, load=_with_profile)
    except InvalidLink:
        return None


def _with_profile(pk) -> Contact | None:
    return profiles.contact_with_profile(pk=int(pk))


@cache
def _load(paths: tuple[str, ...]):
    return tuple(import_string(path) for path in paths)


def resolvers():
    return _load(tuple(get_setting("IDENTITY_RESOLVERS")))


def current_contact(request) -> Contact | None:
    """The contact the visitor is known to be, or None; looked up once per request."""
    if hasattr(request, PREVIEW_ATTRIBUTE):
        return None
    if not hasattr(request, _CACHE):
        setattr(request, _CACHE, _resolve(request))
    return getattr(request, _CACHE)


def current_profile(request) -> profiles.Profile | None:
    """The profile of the visitor (or of the previewed visitor); None for an unknown one."""
    if hasattr(request, PREVIEW_ATTRIBUTE):
        return getattr(request, PREVIEW_ATTRIBUTE)
    contact = current_contact(request)
    return None if contact is None else _cached_profile(contact)


def _cached_profile(contact: Contact) -> profiles.Profile:
    if not hasattr(contact, _PROFILE):
        setattr(contact, _PROFILE, profiles.profile_of(contact))
    return getattr(contact, _PROFILE)


def _resolve(request) -> Contact | None:
    for resolver in resolvers():
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


def recognising_link(url: str, contact: Contact) -> str:
    """``url`` with a signed token that recognises ``contact``, for links in emails.

    Opening it sets the identity cookie and redirects to ``url`` without the token.
    """
    parts = urlsplit(url)
    parameter = get_setting("LINK_TOKEN_PARAMETER")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != parameter]
    query.append((parameter, tokens.contact_token(contact, purpose="link")))
    return urlunsplit(parts._replace(query=urlencode(query)))


def redirect_from_link(request) -> HttpResponseRedirect | None:
    """For a GET with a link token: remember the contact it names and go to the clean URL.

    A forged or expired token is dropped from the URL and recognises nobody; a cookie the
    browser already has is left as it is. The redirect never leaves the site: see
    ``_same_site_path``.
    """
    parameter = get_setting("LINK_TOKEN_PARAMETER")
    if request.method not in ("GET", "HEAD") or parameter not in request.GET:
        return None
    contact = from_link_token(request)
    query = request.GET.copy()
    del query[parameter]
    clean = _same_site_path(request) + (f"?{query.urlencode()}" if query else "")
    response = HttpResponseRedirect(clean)
    add_never_cache_headers(response)
    if contact is not None:
        remember(request, response, contact)
    return response


def _same_site_path(request) -> str:
    """The request's path, escaped, as a URL that can only name this site.

    The path is what the server decoded: ``//evil.example/`` or ``/%2F%2Fevil.example/``
    would make ``Location: //evil.example/``, which browsers follow to another site. Escaping
    turns backslashes and control characters (which browsers read as ``/`` or drop) into
    ``%5C``, ``%09``…; the leading slashes collapse to one.
    """
    return "/" + escape_uri_path(request.path).lstrip("/")


def recognise_from_link(page, request, serve_args, serve_kwargs):
    """A ``before_serve_page`` hook: links from emails recognise their reader on any page."""
    return redirect_from_link(request)
