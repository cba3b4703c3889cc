from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from tests.factories import ContactFactory, PreferenceFactory
from wagtail_preferences import services
from wagtail_preferences.models import (
    ChangePath,
    Contact,
    ContactPreference,
    Segment,
    SegmentMember,
)

pytestmark = pytest.mark.django_db


def segment(name, *criteria):
    return Segment.objects.create(
        name=name, criteria=[{"type": kind, "value": value} for kind, value in criteria]
    )


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("preferences_refresh_segments", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_refreshes_every_segment_in_dependency_order_with_progress():
    products = PreferenceFactory(name="Products")
    fans = ContactFactory.create_batch(2, preferences=[products], confirmed=True)
    ContactFactory(confirmed=True)
    first = segment("Fans", ("preferences", {"mode": "any", "preferences": [products.pk]}))
    # Created first but depends on "Fans": it must be refreshed after it.
    confirmed_fans = segment("Confirmed fans", ("segment", {"mode": "member", "segment": first.pk}))
    Segment.objects.filter(pk=confirmed_fans.pk).update(sort_order=-1)

    out, err = run()

    assert "[1/2] Fans: 2 joined, 0 left" in out
    assert "[2/2] Confirmed fans: 2 joined, 0 left" in out
    assert "Refreshed 2 segments: 4 joined, 0 left." in out
    assert err == ""
    assert set(services.members(confirmed_fans)) == set(fans)


def test_only_the_named_segments_and_invalid_ones_are_skipped_with_a_warning():
    products = PreferenceFactory(name="Products")
    ContactFactory(preferences=[products])
    wanted = segment("Fans", ("preferences", {"mode": "any", "preferences": [products.pk]}))
    other = segment("Other", ("preferences", {"mode": "any", "preferences": [products.pk]}))
    broken = segment("Broken", ("category", {"state": "opted_out", "category": 999999}))

    out, err = run("--segment", wanted.slug, "--segment", broken.slug)

    assert "Refreshed 1 segments: 1 joined, 0 left." in out
    assert "Skipped “Broken”" in err and "has been deleted" in err
    assert not SegmentMember.objects.filter(segment=other).exists()


def test_an_unknown_slug_is_an_error():
    with pytest.raises(CommandError, match="No segment with the slug: nope."):
        run("--segment", "nope")


def test_background_enqueues_the_task():
    products = PreferenceFactory(name="Products")
    ContactFactory(preferences=[products])
    fans = segment("Fans", ("preferences", {"mode": "any", "preferences": [products.pk]}))

    out, _ = run("--background")

    assert "Enqueued the refresh of 1 segments." in out
    # The test settings run tasks at once.
    assert services.members(fans).count() == 1


def test_an_unknown_slug_exits_with_an_error_status(capsys):
    utility = ManagementUtility(["manage.py", "preferences_refresh_segments", "--segment", "nope"])

    with pytest.raises(SystemExit) as exit_info:
        utility.execute()

    assert exit_info.value.code != 0
    assert "No segment with the slug: nope." in capsys.readouterr().err


def test_invalid_segments_are_skipped_when_refreshing_all():
    products = PreferenceFactory(name="Products")
    ContactFactory(preferences=[products])
    fans = segment("Fans", ("preferences", {"mode": "any", "preferences": [products.pk]}))
    segment("Broken", ("preferences", {"mode": "any", "preferences": [products.pk, 999999]}))

    out, err = run()

    assert "[1/1] Fans: 1 joined, 0 left" in out
    assert "Refreshed 1 segments: 1 joined, 0 left." in out
    assert "Skipped “Broken”" in err and "has been deleted" in err
    assert services.members(fans).count() == 1


def test_large_counts_are_grouped_by_thousands():
    products = PreferenceFactory(name="Products")
    contacts = Contact.objects.bulk_create(ContactFactory.build_batch(1200))
    ContactPreference.objects.bulk_create(
        ContactPreference(contact=contact, preference=products, source=ChangePath.IMPORT)
        for contact in contacts
    )
    segment("Fans", ("preferences", {"mode": "any", "preferences": [products.pk]}))

    out, _ = run()

    assert "[1/1] Fans: 1,200 joined, 0 left" in out
    assert "Refreshed 1 segments: 1,200 joined, 0 left." in out
