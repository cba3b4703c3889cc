import threading

import pytest
from django.db import connection

from tests.threads import at_once
from wagtail_preferences import services, signals
from wagtail_preferences.models import ChangePath, ConsentEvent, Contact

THREADS = 10
SPELLINGS = [
    "race@example.com",
    "RACE@example.com",
    "Race@Example.com",
    "race@EXAMPLE.COM",
    "rAce@example.com",
    "raCe@example.Com",
    "racE@example.com",
    " race@example.com ",
    "RACE@EXAMPLE.COM",
    "Race@example.COM",
]

pytestmark = pytest.mark.postgres


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_differently_cased_addresses_created_at_once_are_one_contact(round_):
    origin = services.Origin(path=ChangePath.FORM, reference=f"round {round_}")
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    results, errors, created_signals = [], [], []

    def on_created(contact_ids, **kwargs):
        with lock:
            created_signals.append(contact_ids)

    def create(email):
        try:
            barrier.wait(timeout=30)
            contact, created = services.get_or_create_contact(email, origin)
            with lock:
                results.append((contact.pk, created))
        except Exception as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    signals.contact_created.connect(on_created)
    try:
        threads = [threading.Thread(target=create, args=(email,)) for email in SPELLINGS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        signals.contact_created.disconnect(on_created)

    assert errors == []
    assert len(results) == THREADS
    contact = Contact.objects.get()
    assert contact.email == "race@example.com"
    assert {pk for pk, _ in results} == {contact.pk}
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    assert ConsentEvent.objects.filter(field="created").count() == 1
    assert created_signals == [frozenset({contact.pk})]


@pytest.mark.django_db(transaction=True)
def test_identical_manage_page_saves_at_once_log_each_change_once():
    from wagtail_preferences.models import ConsentSubject, ContactChannel
    from wagtail_preferences.visitors.manage_form import ManagePreferencesForm

    saves = 40
    contact = Contact.objects.create(email="race@example.com", phone="+32470000000")
    shows = dict.fromkeys(("channels", "frequency", "pause", "preferred_channel"), True)
    data = {
        "email": contact.email,
        "phone": contact.phone,
        "channels-email-enabled": "on",
        "channels-email-frequency_count": "2",
        "channels-email-frequency_period": "week",
        "channels-preferred": "email",
    }
    origin = services.Origin(path=ChangePath.SELF_SERVICE, reference="race")

    def open_page():
        # Each page was opened, and its form checked, before any is saved.
        form = ManagePreferencesForm(Contact.objects.get(pk=contact.pk), shows, data=data)
        assert form.is_valid(), form.errors
        return lambda: form.save(origin)

    at_once(open_page, saves)

    logged = ConsentEvent.objects.filter(contact=contact, subject=ConsentSubject.CHANNEL)
    assert sorted(logged.values_list("subject_label", "field", "old_value", "new_value")) == [
        ("email", "frequency", None, [2, "week"]),
        ("email", "preferred", False, True),
        ("sms", "enabled", True, False),
    ]
    assert ContactChannel.objects.filter(contact=contact).count() == 2
