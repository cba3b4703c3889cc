"""Fill the example site with demo pages, preferences, categories and contacts.

Safe to run again: what exists is left alone, and only what is missing is added.
"""

import random
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from wagtail_preferences.identity.resolvers import recognising_link
from wagtail_preferences.models import ConsentEvent, Contact, ContactStatus

from ...demo.audience import HISTORY_DAYS, Story, ensure_categories, ensure_preferences, tell
from ...demo.feedback import ensure_demo_feedback
from ...demo.messages import (
    allow_tracking,
    ensure_draft_campaign,
    ensure_messages,
    ensure_sent_campaign,
)
from ...demo.pages import ensure_pages, ensure_signup_forms
from ...demo.people import make_people
from ...demo.personalised import demo_visitors, ensure_dynamic_sections
from ...demo.segments import ensure_segments

ADMIN_USERNAME = "admin"
#: A fixed password for a local demo, documented in the README. Never use it on a real site.
ADMIN_PASSWORD = "changeme"


class Command(BaseCommand):
    help = (
        "Load demo data: pages, preferences, categories, segments and contacts with a consent "
        "history. "
        "Creates (or resets the password of) the demo superuser."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--contacts", type=int, default=300, help="How many contacts (default: 300)."
        )
        parser.add_argument(
            "--seed", type=int, default=2024, help="Random seed; the same seed, the same people."
        )
        parser.add_argument("--admin-password", default=ADMIN_PASSWORD)
        parser.add_argument(
            "--url",
            default=settings.WAGTAILADMIN_BASE_URL,
            help="Where the site runs, for the links printed at the end "
            "(default: WAGTAILADMIN_BASE_URL).",
        )

    def handle(self, *args, contacts, seed, admin_password, url, **options):
        admin = self.ensure_admin(admin_password)
        with transaction.atomic():
            home = ensure_pages(admin)
            allow_tracking()
            preferences = ensure_preferences()
            categories = ensure_categories()
            ensure_signup_forms(home, preferences, categories, admin)
            ensure_dynamic_sections(home, preferences, admin)
            stats = self.ensure_contacts(contacts, seed, admin, preferences, categories)
            segments = ensure_segments(preferences, categories, admin)
            newsletter, personalised = ensure_messages(preferences, categories, admin, url)
            ensure_draft_campaign(personalised, preferences, segments, admin)
        # Sent once the contacts are committed, as a campaign is sent from the admin.
        sent = ensure_sent_campaign(newsletter, preferences, admin)
        sent.refresh_from_db()
        feedback = ensure_demo_feedback(sent, url, seed)

        pages = home.get_children().count()
        self.stdout.write(f"Pages: {home.title!r} and {pages} pages below it.")
        self.stdout.write(
            f"Preferences: {', '.join(preferences)}. Categories: {', '.join(categories)}."
        )
        self.stdout.write(
            "Segments: " + ", ".join(f"{s.name} ({s.memberships.count()})" for s in segments) + "."
        )
        created = sum(n for key, n in stats.items() if key.startswith("created"))
        self.stdout.write(
            f"Contacts: {created} new, {Contact.objects.count()} in all "
            f"({self.by_status()}); {ConsentEvent.objects.count()} consent events."
        )
        for key, count in sorted(stats.items()):
            self.stdout.write(f"  {key}: {count}")
        self.stdout.write(
            f"Messages: {newsletter.name!r}, {personalised.name!r} (with sections by "
            f"preference). Campaign {sent.name!r} sent: "
            f"{sent.deliveries.filter(status='sent').count()} emails, one .eml file each, in "
            f"{settings.EMAIL_FILE_PATH}."
        )
        if feedback:
            self.stdout.write(
                "  Made-up demo feedback for its report: the campaign moved back 30 hours, "
                "outcomes (delivered, bounced, complained), opens and clicks."
            )
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin: {url.rstrip('/')}/admin/  user: {ADMIN_USERNAME}  "
                f"password: {admin_password}"
            )
        )
        self.stdout.write(f"Site:  {url.rstrip('/')}/")
        self.write_visitors(url, preferences)

    def write_visitors(self, url: str, preferences) -> None:
        """Links that recognise a demo contact, to see the home page's dynamic sections."""
        visitors = demo_visitors(preferences)
        if not visitors:
            return
        self.stdout.write("")
        self.stdout.write(
            "Dynamic content: the home page shows each visitor other sections. A link "
            "recognises its contact in the browser that opens it."
        )
        home = f"{url.rstrip('/')}/"
        for description, contact in visitors:
            held = contact.preferences.filter(is_public=True).values_list("name", flat=True)
            self.stdout.write(
                f"  See the site as {contact.first_name} {contact.last_name}, {description} "
                f"({', '.join(held)}):"
            )
            self.stdout.write(f"    {recognising_link(home, contact)}")
        self.stdout.write(
            "  See it as an unknown visitor: in a private window, or after "
            '"Forget me on this browser" at the foot of the page.'
        )

    def ensure_admin(self, password: str):
        User = get_user_model()
        user, _ = User.objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"email": "admin@example.com", "first_name": "Demo", "last_name": "Admin"},
        )
        user.is_active = user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return user

    def ensure_contacts(self, count, seed, admin, preferences, categories) -> Counter:
        stats: Counter = Counter()
        end = timezone.now() - timedelta(minutes=5)
        for index, person in enumerate(make_people(count, seed)):
            rng = random.Random(f"{seed}-story-{index}")
            start = (end - timedelta(days=rng.uniform(1, HISTORY_DAYS))).replace(
                hour=rng.randint(7, 20), minute=rng.randrange(60)
            )
            story = Story(person=person, rng=rng, start=start, end=end, admin=admin)
            tell(story, preferences, categories, stats)
        return stats

    def by_status(self) -> str:
        counts = Counter(Contact.objects.values_list("status", flat=True))
        return ", ".join(
            f"{counts[status]} {label.lower()}"
            for status, label in ContactStatus.choices
            if counts[status]
        )
