import threading

import pytest
from django.db import connection

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
