"""Demo preferences, categories and contacts.

Every change to a contact goes through ``wagtail_preferences.services``, on the path a real
change would take (a form, an import, an editor, an unsubscribe link), at a moment in the past
year: the clock is moved back for each step, so the consent log reads like a real one.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import time_machine

from wagtail_preferences import services
from wagtail_preferences.models import Category, ChangePath, Contact, ContactStatus, Preference
from wagtail_preferences.services import ChannelSettings, Origin

from .people import Person

PREFERENCES = [
    (
        "Products",
        "News about our products: launches, new features and tips to get more out of them.",
        True,
    ),
    ("Trainings", "Upcoming webinars, workshops and courses, online and on site.", True),
    (
        "Events",
        "Invitations to our customer day, meetups and the trade fairs where you can meet us.",
        True,
    ),
    ("Newsletter", "Our monthly newsletter with the best of the blog and customer stories.", True),
    (
        "VIP customers",
        "Internal: key accounts who get early access and personal invitations. "
        "Never offered to visitors.",
        False,
    ),
]
#: How popular each public preference is among people who sign up.
POPULARITY = {"Newsletter": 70, "Products": 45, "Events": 35, "Trainings": 30}

CATEGORIES = [
    ("Promotions", "Discounts, offers and seasonal campaigns."),
    ("Product updates", "Release notes and announcements about the products you use."),
    ("Event invitations", "Invitations to webinars, trainings and events."),
    ("Surveys", "Short questionnaires that help us improve."),
]
#: How likely each category is to be the one a contact opts out of.
OPT_OUTS = {"Promotions": 40, "Surveys": 35, "Event invitations": 15, "Product updates": 10}

SIGN_UP_FORMS = [
    "Newsletter sign-up (footer)",
    "Stay in touch page",
    "Webinar registration",
    "Customer day registration",
]
IMPORTS = [
    "Import: trade fair leads, Brussels",
    "Import: CRM export",
    "Import: webinar attendees",
]
MANAGE_PAGE = "manage-preferences page"
CONSENT_WORDING = (
    "Yes, Example Company may email me about the topics I ticked. "
    "I can change my choices or unsubscribe at any time."
)
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36",
]
#: Documentation address ranges (RFC 5737): realistic-looking, never anyone's.
IP_PREFIXES = ["192.0.2.", "198.51.100.", "203.0.113."]
HISTORY_DAYS = 540


def ensure_preferences() -> dict[str, Preference]:
    preferences = {}
    for order, (name, description, public) in enumerate(PREFERENCES):
        preferences[name], _ = Preference.objects.get_or_create(
            name=name,
            defaults={"description": description, "is_public": public, "sort_order": order},
        )
    return preferences


def ensure_categories() -> dict[str, Category]:
    categories = {}
    for order, (name, description) in enumerate(CATEGORIES):
        categories[name], _ = Category.objects.get_or_create(
            name=name, defaults={"description": description, "sort_order": order}
        )
    return categories


def _weighted_sample(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    names = list(weights)
    chosen: list[str] = []
    while len(chosen) < min(count, len(names)):
        pick = rng.choices(names, [weights[n] for n in names])[0]
        if pick not in chosen:
            chosen.append(pick)
    return chosen


@dataclass
class Story:
    """One contact's history, told step by step at moments between ``start`` and ``end``."""

    person: Person
    rng: random.Random
    start: datetime
    end: datetime
    admin: object
    now: datetime = field(init=False)

    def __post_init__(self):
        self.now = self.start
        self.ip = self.rng.choice(IP_PREFIXES) + str(self.rng.randrange(1, 255))
        self.user_agent = self.rng.choice(USER_AGENTS)

    def later(self, short: bool = False) -> datetime:
        """Move the clock on: minutes for a confirmation, otherwise days to months."""
        if short:
            moment = self.now + timedelta(minutes=self.rng.uniform(1, 90))
        else:
            moment = self.now + (self.end - self.now) * self.rng.uniform(0.05, 0.5)
            # People act in the day, not at four in the morning.
            moment = max(
                moment.replace(hour=self.rng.randint(7, 21), minute=self.rng.randrange(60)),
                self.now + timedelta(minutes=1),
            )
        self.now = min(moment, self.end)
        return self.now

    def form(self, reference: str = "", wording: str = "") -> Origin:
        return self.visitor(ChangePath.FORM, reference, wording)

    def own_page(self) -> Origin:
        """The contact on their manage-preferences page."""
        return self.visitor(ChangePath.SELF_SERVICE, MANAGE_PAGE)

    def visitor(self, path: str, reference: str, wording: str = "") -> Origin:
        return Origin(
            path=path,
            reference=reference,
            ip_address=self.ip,
            user_agent=self.user_agent,
            wording=wording,
        )

    def editor(self, reference: str = "") -> Origin:
        return Origin(path=ChangePath.ADMIN, user=self.admin, reference=reference)

    def at(self, moment: datetime):
        return time_machine.travel(moment, tick=False)


def _sign_up(story: Story, origin: Origin, details: dict, chosen: list[Preference]) -> None:
    """A double opt-in form, as a visitor sends it; most confirm the link soon after."""
    form_details = {k: details[k] for k in services.submissions.FORM_DETAILS}
    with story.at(story.now):
        submission = services.record_submission(
            story.person.email,
            services.choices_record(details=form_details, preferences=dict.fromkeys(chosen, True)),
            origin,
            form_label=origin.reference,
        )
        contact = submission.contact
        services.update_details(
            contact, {"locale": details["locale"], "data": details["data"]}, origin
        )
    if story.rng.random() < 0.9:
        with story.at(story.later(short=True)):
            services.confirm_submission(submission, story.form())


def tell(story: Story, preferences, categories, stats: Counter) -> bool:
    """Create the contact and live its history; False if it existed already."""
    rng, person = story.rng, story.person
    kind = rng.choices(["form", "import", "admin"], [55, 30, 15])[0]
    if kind == "form":
        origin = story.form(rng.choice(SIGN_UP_FORMS), CONSENT_WORDING)
    elif kind == "import":
        origin = Origin(path=ChangePath.IMPORT, reference=rng.choice(IMPORTS))
    else:
        origin = story.editor()
    details = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "phone": person.phone,
        "locale": person.locale,
        "data": {"company": person.company} if person.company else {},
    }
    if Contact.objects.filter(email=person.email).exists():
        return False
    chosen = _weighted_sample(rng, POPULARITY, rng.choices([1, 2, 3], [50, 35, 15])[0])
    if kind == "form":
        _sign_up(story, origin, details, [preferences[name] for name in chosen])
    else:
        with story.at(story.now):
            contact, _ = services.get_or_create_contact(person.email, origin, **details)
            services.add_preferences(contact, [preferences[name] for name in chosen], origin)
            services.set_status(contact, ContactStatus.CONFIRMED, origin)
    contact = Contact.objects.get(email=person.email)
    stats[f"created via {kind}"] += 1

    if rng.random() < 0.3:
        extra = [n for n in _weighted_sample(rng, POPULARITY, 2) if n not in chosen]
        if extra:
            with story.at(story.later()):
                services.add_preferences(contact, [preferences[extra[0]]], story.own_page())
                chosen.append(extra[0])
    if kind != "import" and rng.random() < 0.08:
        with story.at(story.later()):
            services.add_preferences(
                contact,
                [preferences["Trainings"]],
                Origin(path=ChangePath.IMPORT, reference="Import: webinar attendees"),
            )
    if len(chosen) > 1 and rng.random() < 0.12:
        with story.at(story.later()):
            services.remove_preferences(
                contact, [preferences[rng.choice(chosen)]], story.own_page()
            )

    if rng.random() < 0.35:
        names = _weighted_sample(rng, OPT_OUTS, rng.choices([1, 2], [70, 30])[0])
        with story.at(story.later()):
            services.set_category_choices(
                contact, {categories[n]: False for n in names}, story.own_page()
            )
        stats["opted out of a category"] += 1
        if rng.random() < 0.1:
            with story.at(story.later()):
                services.set_category_choices(
                    contact, {categories[names[0]]: True}, story.own_page()
                )

    _channels(story, contact, stats)

    if rng.random() < 0.05:
        with story.at(story.later()):
            services.add_preferences(
                contact, [preferences["VIP customers"]], story.editor("Key account review")
            )
    if not person.phone and rng.random() < 0.06:
        with story.at(story.later()):
            services.update_details(
                contact, {"phone": f"+32 470 55 01 {rng.randrange(100):02d}"}, story.editor()
            )

    ending = rng.random()
    if ending < 0.07:
        month = story.later().strftime("%B %Y")
        with story.at(story.now):
            services.set_status(
                contact,
                ContactStatus.UNSUBSCRIBED,
                Origin(
                    path=ChangePath.UNSUBSCRIBE,
                    reference=f"Newsletter, {month}",
                    ip_address=story.ip,
                    user_agent=story.user_agent,
                ),
            )
    elif ending < 0.09:
        with story.at(story.later()):
            services.set_status(
                contact,
                ContactStatus.BLOCKED,
                Origin(path=ChangePath.SYSTEM, reference="Hard bounce: mailbox does not exist"),
            )
    return True


def _channels(story: Story, contact, stats: Counter) -> None:
    rng, phone = story.rng, bool(story.person.phone)
    email: dict = {}
    sms: dict = {}
    if phone and rng.random() < 0.3:
        sms["enabled"] = False
        stats["SMS disabled"] += 1
    if rng.random() < 0.2:
        email["frequency_count"], email["frequency_period"] = rng.choice(
            [(1, "week"), (2, "week"), (1, "month"), (2, "month"), (1, "day")]
        )
        stats["email frequency set"] += 1
    if rng.random() < 0.05:
        today = story.end.date()
        email["pause_from"] = today - timedelta(days=rng.randrange(0, 10))
        email["pause_to"] = today + timedelta(days=rng.randrange(7, 35))
        stats["email paused"] += 1
    if phone and sms.get("enabled", True) and rng.random() < 0.2:
        sms["is_preferred"] = True
        stats["prefers SMS"] += 1
    elif rng.random() < 0.1:
        email["is_preferred"] = True
        stats["prefers email"] += 1
    wanted = {}
    if email:
        wanted["email"] = ChannelSettings(**email)
    if sms:
        wanted["sms"] = ChannelSettings(**sms)
    if wanted:
        with story.at(story.later()):
            services.update_channels(contact, wanted, story.own_page())
