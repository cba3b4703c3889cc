"""factory-boy factories for every model the tests build.

Factories write rows directly and record no consent events; to test what a change logs,
make the change through ``wagtail_preferences.services``.

Creating a segment schedules its refresh for when the transaction commits; inside a test's
transaction that happens only under ``django_capture_on_commit_callbacks(execute=True)``.
"""

import datetime
import re

import factory
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from wagtail_preferences.models import (
    Campaign,
    Category,
    CategoryChoice,
    ChangePath,
    Contact,
    ContactChannel,
    ContactPreference,
    ContactStatus,
    Delivery,
    DeliveryStatus,
    FrequencyPeriod,
    MatchRule,
    Message,
    Preference,
    Segment,
)

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "post.example")
INTEREST_NAMES = ("Products", "Trainings", "Events", "Newsletter", "Webinars", "Offers")


def _local_part(*names: str) -> str:
    parts = [re.sub(r"[^a-z]", "", name.lower()) for name in names]
    return ".".join(part for part in parts if part) or "contact"


class UserFactory(DjangoModelFactory):
    """A site user. ``UserFactory(staff=True)``, ``UserFactory(superuser=True)``.

    ``permissions`` takes "app_label.codename" strings:
    ``UserFactory(staff=True, permissions=["wagtailadmin.access_admin"])``.
    The password is "password".
    """

    class Meta:
        model = settings.AUTH_USER_MODEL
        skip_postgeneration_save = True

    class Params:
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = Password("password")
    is_active = True
    is_staff = False
    is_superuser = False

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for name in extracted:
            app_label, codename = name.split(".", 1)
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class ContactFactory(DjangoModelFactory):
    """A contact with a unique email address; status pending unless a trait says otherwise.

    ``ContactFactory(confirmed=True)``, ``ContactFactory(unsubscribed=True)``,
    ``ContactFactory(preferences=[preference, ...])`` (held without consent events).
    """

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    class Params:
        confirmed = factory.Trait(status=ContactStatus.CONFIRMED)
        unsubscribed = factory.Trait(status=ContactStatus.UNSUBSCRIBED)
        blocked = factory.Trait(status=ContactStatus.BLOCKED)

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttributeSequence(
        lambda contact, n: (
            f"{_local_part(contact.first_name, contact.last_name)}.{n}"
            f"@{EMAIL_DOMAINS[n % len(EMAIL_DOMAINS)]}"
        )
    )
    phone = factory.Sequence(lambda n: f"+3247{n:07d}")
    locale = "en"
    status = ContactStatus.PENDING

    @factory.post_generation
    def preferences(contact, create, extracted, **kwargs):
        if not create or not extracted:
            return
        ContactPreference.objects.bulk_create(
            [
                ContactPreference(contact=contact, preference=preference, source=ChangePath.ADMIN)
                for preference in extracted
            ]
        )


class PreferenceFactory(DjangoModelFactory):
    """A public preference; ``PreferenceFactory(internal=True)`` for an internal one.

    The slug is left blank so that the model fills it from the name.
    """

    class Meta:
        model = Preference

    class Params:
        internal = factory.Trait(is_public=False)

    name = factory.Sequence(lambda n: f"{INTEREST_NAMES[n % len(INTEREST_NAMES)]} {n}")
    description = factory.Faker("sentence")
    sort_order = 0
    is_public = True


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    description = factory.Faker("sentence")
    sort_order = 0


class ContactPreferenceFactory(DjangoModelFactory):
    """A contact holding a preference."""

    class Meta:
        model = ContactPreference

    contact = factory.SubFactory(ContactFactory)
    preference = factory.SubFactory(PreferenceFactory)
    source = ChangePath.ADMIN


class CategoryChoiceFactory(DjangoModelFactory):
    """An explicit choice for a category: an opt-out unless ``subscribed=True``."""

    class Meta:
        model = CategoryChoice

    contact = factory.SubFactory(ContactFactory)
    category = factory.SubFactory(CategoryFactory)
    subscribed = False
    source = ChangePath.ADMIN


class ContactChannelFactory(DjangoModelFactory):
    """A contact's settings for a channel (email unless ``channel=`` says otherwise).

    Traits: ``disabled``, ``preferred``, ``weekly`` (one message a week) and ``paused``
    (from today for a week).
    """

    class Meta:
        model = ContactChannel

    class Params:
        disabled = factory.Trait(enabled=False)
        preferred = factory.Trait(is_preferred=True)
        weekly = factory.Trait(frequency_count=1, frequency_period=FrequencyPeriod.WEEK)
        paused = factory.Trait(
            pause_from=factory.LazyFunction(timezone.localdate),
            pause_to=factory.LazyFunction(
                lambda: timezone.localdate() + datetime.timedelta(days=7)
            ),
        )

    contact = factory.SubFactory(ContactFactory)
    channel = "email"
    enabled = True
    frequency_count = None
    frequency_period = ""
    pause_from = None
    pause_to = None
    is_preferred = False


class SegmentFactory(DjangoModelFactory):
    """A segment matching all of ``criteria`` (none by default: it matches nobody).

    Criteria are raw data, as built by ``tests.segment_helpers``:
    ``SegmentFactory(criteria=[...], match="any", preferences_on_join=[preference])``.
    """

    class Meta:
        model = Segment
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Segment {n}")
    description = ""
    match = MatchRule.ALL
    criteria = factory.LazyFunction(list)
    is_public = False

    @factory.post_generation
    def preferences_on_join(segment, create, extracted, **kwargs):
        if create and extracted:
            segment.preferences_on_join.set(extracted)


class MessageFactory(DjangoModelFactory):
    """A published message with a heading, a paragraph and a button; no SMS text, no category.

    ``body`` takes the StreamField's raw form: ``[{"type": "heading", "value": "Hi"}]``.
    """

    class Meta:
        model = Message
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Message {n}")
    subject = "Hello {{ first_name }}"
    preheader = "News from the bakery"
    body = factory.LazyFunction(
        lambda: [
            {"type": "heading", "value": "Fresh bread"},
            {"type": "paragraph", "value": '<p>Read <a href="/news/">our news</a>.</p>'},
            {"type": "button", "value": {"text": "Order now", "url": "https://example.com/o"}},
        ]
    )
    sms_text = ""

    @factory.post_generation
    def publish(message, create, extracted, **kwargs):
        """Published unless ``publish=False``."""
        if create and extracted is not False:
            message.save_revision().publish()
            message.refresh_from_db()


class CampaignFactory(DjangoModelFactory):
    """A draft campaign of a published message to the holders of ``preferences``."""

    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    message = factory.SubFactory(MessageFactory)

    @factory.post_generation
    def preferences(campaign, create, extracted, **kwargs):
        if create and extracted:
            campaign.preferences.set(extracted)

    @factory.post_generation
    def segments(campaign, create, extracted, **kwargs):
        if create and extracted:
            campaign.segments.set(extracted)


class DeliveryFactory(DjangoModelFactory):
    """A marketing email of another campaign to a contact, sent an hour ago."""

    class Meta:
        model = Delivery

    campaign = factory.SubFactory(CampaignFactory)
    contact = factory.SubFactory(ContactFactory, confirmed=True)
    channel = "email"
    status = DeliveryStatus.SENT
    sent_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class CampaignLinkFactory(DjangoModelFactory):
    """A link of a campaign's message, numbered in turn."""

    class Meta:
        model = "wagtail_preferences.CampaignLink"

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    url = factory.Sequence(lambda n: f"https://example.com/page-{n}/")


class EngagementFactory(DjangoModelFactory):
    """A person's open of a delivery, seen by the tracking pixel now.

    ``click=True`` makes it a click of ``link`` (a new link of the delivery's campaign unless
    given); ``machine=True`` one made by a proxy or a scanner.
    """

    class Meta:
        model = "wagtail_preferences.Engagement"

    class Params:
        click = factory.Trait(
            kind="click",
            link=factory.SubFactory(
                CampaignLinkFactory, campaign=factory.SelfAttribute("..campaign")
            ),
        )

    delivery = factory.SubFactory(DeliveryFactory)
    campaign = factory.SelfAttribute("delivery.campaign")
    kind = "open"
    machine = False
    source = "tracking"
