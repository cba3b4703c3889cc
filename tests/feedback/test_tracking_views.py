"""The click and open views: signed, no open redirect, machines told apart, few queries."""

import pytest
from django.test import Client

from tests.factories import CampaignFactory
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import CampaignLink, Engagement, EngagementKind
from wagtail_preferences.visitors.views.tracking import PIXEL

from .tracking_helpers import allow, click_path, just_sent, open_path, sent_delivery

pytestmark = pytest.mark.django_db

URL = "https://shop.example/bread"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"


@pytest.fixture
def delivery():
    allow()
    return sent_delivery(url=URL)


def visitor():
    return Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")


def tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


class TestClicks:
    def test_a_click_goes_to_the_link_and_is_recorded_against_the_delivery(self, delivery):
        response = visitor().get(click_path(delivery))

        assert response.status_code == 302
        assert response["Location"] == URL
        assert "no-store" in response["Cache-Control"]
        [click] = Engagement.objects.all()
        assert (click.delivery_id, click.campaign_id, click.kind) == (
            delivery.pk,
            delivery.campaign_id,
            EngagementKind.CLICK,
        )
        assert click.link.url == URL and click.machine is False

    @pytest.mark.parametrize(
        "path",
        [
            lambda d: f"/preferences/t/c/{tampered(tokens.delivery_token(d.pk))}/1/",
            lambda d: f"/preferences/t/c/{d.pk + 1}-{tokens.delivery_token(d.pk)[-16:]}/1/",
            lambda d: f"/preferences/t/c/{d.pk}/1/",
            lambda d: click_path(d, number=2),
            lambda d: click_path(d, number=99999999999),
            lambda d: click_path(d) + "?next=https://evil.example/",
        ],
        ids=["tampered-token", "other-delivery", "unsigned", "no-such-number", "huge", "next"],
    )
    def test_an_altered_link_gives_404_or_the_links_own_url(self, delivery, path):
        response = visitor().get(path(delivery))

        if response.status_code == 302:  # only the untouched link with a query added
            assert response["Location"] == URL
        else:
            assert response.status_code == 404
            assert "evil" not in response.content.decode()
            assert not Engagement.objects.exists()

    def test_links_signed_with_a_retired_key_work_while_it_is_a_fallback(self, delivery, settings):
        path = click_path(delivery)
        settings.SECRET_KEY, old = "a-new-key-for-the-tests", settings.SECRET_KEY

        assert visitor().get(path).status_code == 404
        settings.SECRET_KEY_FALLBACKS = [old]
        assert visitor().get(path)["Location"] == URL

    def test_a_link_number_of_another_campaign_gives_404(self, delivery):
        other = CampaignFactory()
        CampaignLink.objects.create(campaign=other, number=2, url="https://evil.example/")

        response = visitor().get(click_path(delivery, number=2))

        assert response.status_code == 404
        assert not Engagement.objects.exists()

    def test_a_scanners_click_is_a_machines(self, delivery):
        scanner = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; Proofpoint URL Defense)")

        response = scanner.get(click_path(delivery))

        assert response.status_code == 302
        assert Engagement.objects.get().machine is True

    def test_a_head_request_is_a_machines(self, delivery):
        response = visitor().head(click_path(delivery))

        assert response.status_code == 302
        assert Engagement.objects.get().machine is True

    def test_a_click_seconds_after_sending_is_a_machines(self, delivery):
        just_sent(delivery, seconds=2)

        visitor().get(click_path(delivery))

        assert Engagement.objects.get().machine is True

    def test_posting_is_not_allowed(self, delivery):
        assert visitor().post(click_path(delivery)).status_code == 405
        assert not Engagement.objects.exists()


class TestOpens:
    def test_an_open_answers_the_pixel_and_is_recorded(self, delivery):
        response = visitor().get(open_path(delivery))

        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content == PIXEL
        assert "no-store" in response["Cache-Control"]
        [opened] = Engagement.objects.all()
        assert (opened.kind, opened.machine, opened.link) == (EngagementKind.OPEN, False, None)

    def test_an_apple_proxy_open_is_a_machines(self, delivery):
        apple = Client(HTTP_USER_AGENT="Mozilla/5.0", REMOTE_ADDR="17.58.101.12")

        apple.get(open_path(delivery))

        assert Engagement.objects.get().machine is True

    @pytest.mark.parametrize(
        ("agent", "address"),
        [("Mozilla/5.0", "198.51.100.7"), (BROWSER, "17.58.101.12")],
        ids=["bare-agent", "apple-network"],
    )
    def test_either_sign_of_apples_proxy_is_enough(self, delivery, agent, address):
        Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=address).get(open_path(delivery))

        assert Engagement.objects.get().machine is True

    def test_a_bad_token_gets_the_same_pixel_and_stores_nothing(self, delivery):
        good = visitor().get(open_path(delivery))
        bad = visitor().get(f"/preferences/t/o/{tampered(tokens.delivery_token(delivery.pk))}.gif")

        assert bad.status_code == good.status_code == 200
        assert bad.content == good.content
        assert bad["Cache-Control"] == good["Cache-Control"]
        assert Engagement.objects.count() == 1


class TestNothingStoredWhenNotAllowed:
    def test_a_contact_who_refused_after_sending_is_redirected_and_not_recorded(self, delivery):
        delivery.contact.refuses_tracking = True
        delivery.contact.save()

        click = visitor().get(click_path(delivery))
        opened = visitor().get(open_path(delivery))

        assert click.status_code == 302 and click["Location"] == URL
        assert opened.status_code == 200 and opened.content == PIXEL
        assert not Engagement.objects.exists()

    def test_a_site_that_stopped_tracking_records_nothing(self, delivery):
        allow(opens=False, clicks=False)

        assert visitor().get(click_path(delivery))["Location"] == URL
        visitor().get(open_path(delivery))

        assert not Engagement.objects.exists()

    def test_a_campaign_that_does_not_track_records_nothing(self):
        allow()
        delivery = sent_delivery(opens=False, clicks=False, url=URL)

        assert visitor().get(click_path(delivery))["Location"] == URL
        visitor().get(open_path(delivery))

        assert not Engagement.objects.exists()

    def test_each_kind_is_allowed_on_its_own(self):
        allow(opens=True, clicks=False)
        delivery = sent_delivery(url=URL)

        visitor().get(click_path(delivery))
        visitor().get(open_path(delivery))

        assert list(Engagement.objects.values_list("kind", flat=True)) == [EngagementKind.OPEN]


class TestQueries:
    def test_a_recorded_click_reads_once_and_writes_once(self, delivery, django_assert_num_queries):
        client = visitor()
        with django_assert_num_queries(2):
            client.get(click_path(delivery))

    def test_a_click_not_recorded_reads_once(self, delivery, django_assert_num_queries):
        delivery.contact.refuses_tracking = True
        delivery.contact.save()
        client = visitor()
        with django_assert_num_queries(1):
            client.get(click_path(delivery))

    def test_a_bad_token_reads_nothing(self, delivery, django_assert_num_queries):
        client = visitor()
        with django_assert_num_queries(0):
            client.get(f"/preferences/t/c/{tampered(tokens.delivery_token(delivery.pk))}/1/")
            client.get(f"/preferences/t/o/{tampered(tokens.delivery_token(delivery.pk))}.gif")

    def test_a_recorded_open_reads_once_and_writes_once(self, delivery, django_assert_num_queries):
        client = visitor()
        with django_assert_num_queries(2):
            client.get(open_path(delivery))
