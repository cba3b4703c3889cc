"""Preference center → Form submissions and Settings → Preference pages."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import NoReverseMatch, reverse
from wagtail.models import Site

from tests.factories import UserFactory
from tests.visitor_helpers import form_page
from wagtail_preferences import services
from wagtail_preferences.models import (
    ChangePath,
    FormSubmission,
    PreferencePageSettings,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db

SUBMISSIONS = "preference_center_submissions"


def submit(email, page, products, promotions, **options):
    return services.record_submission(
        email,
        services.choices_record(
            details={"first_name": "Ann"},
            preferences={products: True},
            categories={promotions: False},
        ),
        services.Origin(path=ChangePath.FORM, ip_address="203.0.113.5", wording="I agree."),
        form_label="Sign up",
        page=page,
        **options,
    )


@pytest.fixture
def submissions(products, promotions):
    page = form_page(title="Stay in touch")
    return [
        submit("ann@example.com", page, products, promotions),
        submit("bob@example.com", page, products, promotions, double_opt_in=False),
    ]


class TestFormSubmissions:
    def test_the_list_shows_every_submission_and_filters_by_email_and_status(
        self, admin_client, submissions
    ):
        ann, bob = submissions
        url = reverse(f"{SUBMISSIONS}:index")

        listed = admin_client.get(url).context["object_list"]
        assert {s.pk for s in listed} == {ann.pk, bob.pk}
        by_email = admin_client.get(url, {"email": " ANN@example.com"}).context["object_list"]
        assert [s.pk for s in by_email] == [ann.pk]
        applied = admin_client.get(url, {"status": SubmissionStatus.APPLIED})
        assert [s.pk for s in applied.context["object_list"]] == [bob.pk]

    def test_inspecting_shows_the_proof_readably(self, admin_client, submissions):
        html = admin_client.get(
            reverse(f"{SUBMISSIONS}:inspect", args=[submissions[0].pk])
        ).content.decode()

        assert "I agree." in html
        assert "203.0.113.5" in html
        assert "Stay in touch" in html
        assert "Products ✓" in html
        assert "Promotions ✗" in html
        assert "Waiting for confirmation" in html

    def test_nothing_can_be_added_edited_or_deleted(self, admin_client, submissions):
        for name in ("add", "edit", "delete"):
            with pytest.raises(NoReverseMatch):
                reverse(f"{SUBMISSIONS}:{name}", args=[] if name == "add" else [1])
        html = admin_client.get(reverse(f"{SUBMISSIONS}:index")).content.decode()
        assert "Add form submission" not in html

    def test_the_list_needs_the_view_permission(self, client, submissions):
        editor = UserFactory(staff=True, permissions=["wagtailadmin.access_admin"])
        client.force_login(editor)
        url = reverse(f"{SUBMISSIONS}:index")
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))

        editor.user_permissions.add(
            Permission.objects.get(
                codename="view_formsubmission", content_type__app_label="wagtail_preferences"
            )
        )
        editor = type(editor).objects.get(pk=editor.pk)
        client.force_login(editor)
        assert client.get(url).status_code == 200

    def test_the_view_permission_is_offered_in_the_group_editor(self, admin_client):
        html = admin_client.get(reverse("wagtailusers_groups:add")).content.decode()
        permission = Permission.objects.get(
            codename="view_formsubmission", content_type__app_label="wagtail_preferences"
        )
        assert f'value="{permission.pk}"' in html

    def test_the_generic_spreadsheet_export_is_off(self, admin_client, submissions):
        response = admin_client.get(reverse(f"{SUBMISSIONS}:index"), {"export": "csv"})
        assert response["Content-Type"].startswith("text/html")


class TestPreferencePagesSettings:
    def test_an_editor_turns_parts_of_the_manage_page_off(self, admin_client):
        site = form_page().get_site() or Site.objects.get(is_default_site=True)
        url = reverse(
            "wagtailsettings:edit", args=["wagtail_preferences", "preferencepagesettings", site.pk]
        )
        shown = {f"show_{part}": "on" for part in ("channels", "categories", "preferences")}

        response = admin_client.post(url, shown)

        assert response.status_code == 302
        settings = PreferencePageSettings.for_site(site)
        assert settings.shows() == {
            "channels": True,
            "frequency": False,
            "pause": False,
            "preferred_channel": False,
            "categories": True,
            "preferences": True,
            "segments": False,
            "on_unsubscribe": False,
        }


SENT_UTC = datetime.datetime(2026, 12, 4, 13, 5, tzinfo=datetime.UTC)


class TestOneClock:
    @pytest.fixture(autouse=True)
    def brussels(self, settings):
        settings.TIME_ZONE = "Europe/Brussels"

    @pytest.fixture
    def sent(self, submissions):
        ann = submissions[0]
        FormSubmission.objects.filter(pk=ann.pk).update(
            created_at=SENT_UTC, confirmed_at=SENT_UTC + datetime.timedelta(minutes=30)
        )
        return ann

    def test_the_list_and_the_detail_show_the_same_local_time_saying_which(
        self, admin_client, sent
    ):
        listing = admin_client.get(reverse(f"{SUBMISSIONS}:index")).content.decode()
        detail = admin_client.get(reverse(f"{SUBMISSIONS}:inspect", args=[sent.pk]))
        html = detail.content.decode()

        assert "12/04/2026 2:05 p.m. CET" in listing
        assert "12/04/2026 2:35 p.m. CET" in listing
        assert "Dec. 4, 2026, 2:05 p.m. CET" in html
        assert "Dec. 4, 2026, 2:35 p.m. CET" in html
        assert "1:05" not in listing + html
        assert "Sign up (Dec. 4, 2026, 2:05 p.m. CET)" in html  # the title

    def test_summer_time_says_so(self, admin_client, sent):
        FormSubmission.objects.filter(pk=sent.pk).update(
            created_at=datetime.datetime(2026, 7, 1, 8, 0, tzinfo=datetime.UTC)
        )

        html = admin_client.get(reverse(f"{SUBMISSIONS}:inspect", args=[sent.pk])).content
        assert "July 1, 2026, 10 a.m. CEST" in html.decode()

    def test_the_detail_says_yes_or_no_in_words(self, admin_client, sent):
        html = admin_client.get(reverse(f"{SUBMISSIONS}:inspect", args=[sent.pk])).content
        fields = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>\s*([^<]*?)\s*</dd>", html.decode()))

        assert fields["Recognised as the contact"] == "No"
        assert fields["Double opt-in"] == "Yes"
        assert fields["Created the contact"] == "Yes"
        assert "False" not in fields.values()
        assert "True" not in fields.values()

    def test_a_submission_the_contact_sent_says_yes(self, admin_client, sent):
        FormSubmission.objects.filter(pk=sent.pk).update(identified=True)

        html = admin_client.get(reverse(f"{SUBMISSIONS}:inspect", args=[sent.pk])).content
        fields = dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>\s*([^<]*?)\s*</dd>", html.decode()))

        assert fields["Recognised as the contact"] == "Yes"
