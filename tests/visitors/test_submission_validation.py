"""The endpoint every preference form posts to: what it refuses, from tampering to bad input."""

import re

import pytest
from wagtail import hooks
from wagtail.models import PageViewRestriction

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    UserFactory,
)
from tests.submission_fixtures import category_choices, held, send
from tests.visitor_helpers import (
    SUBMIT_URL,
    VisitorForm,
    block_keys,
    db_state,
    form_page,
    form_value,
)
from tests.visitors.submission_helpers import recognise
from wagtail_preferences.models import Contact, FormSubmission

pytestmark = pytest.mark.django_db


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html).group(0)


class TestTampering:
    """A post that does not name a form of a page the visitor may see changes nothing."""

    def assert_refused(self, client, data):
        before = db_state()

        response = client.post(SUBMIT_URL, data)

        assert response.status_code == 400
        assert "This form is not available" in response.content.decode()
        assert db_state() == before

    @pytest.mark.parametrize("page_id", ["999999", "abc", "", "3.0", "9" * 30])
    def test_a_page_id_that_names_no_page_is_refused(self, client, form, page_id):
        self.assert_refused(client, {**form.data(), "wagtail_preferences_page": page_id})

    def test_a_post_without_page_or_block_is_refused(self, client, form):
        data = form.data()
        del data["wagtail_preferences_page"], data["wagtail_preferences_block"]

        self.assert_refused(client, data)

    @pytest.mark.parametrize("key", ["", "not-a-block", "body", "body.0"])
    def test_a_block_key_not_on_the_page_is_refused(self, client, form, key):
        self.assert_refused(client, {**form.data(), "wagtail_preferences_block": key})

    def test_the_block_of_one_page_with_the_id_of_another_is_refused(self, client, form):
        other = form_page(title="Other page")

        self.assert_refused(client, {**form.data(), "wagtail_preferences_page": str(other.pk)})

    def test_a_page_without_forms_is_refused(self, client, form, page):
        self.assert_refused(
            client, {**form.data(), "wagtail_preferences_page": page.get_parent().pk}
        )

    def test_a_form_of_an_unpublished_page_is_refused(self, client, form, page):
        page.unpublish()

        self.assert_refused(client, form.data())

    def test_a_page_the_visitor_may_not_view_is_refused(self, client, form, page):
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)

        self.assert_refused(client, form.data())

    def test_a_page_under_a_restricted_page_is_refused(self, client):
        parent = form_page(title="Members")
        PageViewRestriction.objects.create(
            page=parent, restriction_type=PageViewRestriction.PASSWORD, password="secret"
        )
        child = form_page(title="Members signup")
        child.move(parent, pos="last-child")
        data = {
            **VisitorForm.of(client, form_page(title="Public")).data(),
            "wagtail_preferences_page": str(child.pk),
            "wagtail_preferences_block": block_keys(child)[0],
        }

        self.assert_refused(client, data)

    def test_a_restricted_page_accepts_a_visitor_who_may_view_it(self, client, form, page):
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        client.force_login(UserFactory())

        response = send(form)

        assert response.status_code == 303
        assert FormSubmission.objects.count() == 1

    def test_a_preference_the_block_does_not_offer_is_not_changed(self, client, preference):
        other = PreferenceFactory()
        form = VisitorForm.of(
            client, form_page(form_value(preferences=[preference], double_opt_in=False))
        )

        send(form, preferences=[preference], **{f"preference-{other.pk}": "on"})

        contact = Contact.objects.get()
        assert held(contact) == {preference.pk}
        offered = FormSubmission.objects.get().choices["preferences"]
        assert [item["id"] for item in offered] == [preference.pk]

    def test_a_category_the_block_does_not_offer_is_not_changed(self, client):
        offered, other = CategoryFactory(), CategoryFactory()
        form = VisitorForm.of(
            client, form_page(form_value(categories=[offered], double_opt_in=False))
        )

        send(form, **{f"category-{other.pk}": "on"})

        assert category_choices(Contact.objects.get()) == {offered.pk: False}

    def test_exact_choices_never_touch_what_the_block_does_not_offer(self, client, preference):
        other, other_category = PreferenceFactory(), CategoryFactory()
        contact = ContactFactory(confirmed=True, preferences=[preference, other])
        CategoryChoiceFactory(contact=contact, category=other_category, subscribed=True)
        recognise(client, contact)
        form = VisitorForm.of(
            client, form_page(form_value(mode="update", preferences=[preference]))
        )

        send(form, email=None, **{f"preference-{other.pk}": ""})

        assert held(contact) == {other.pk}
        assert category_choices(contact) == {other_category.pk: True}

    def test_an_internal_preference_in_the_block_is_neither_shown_nor_chosen(
        self, client, preference
    ):
        internal = PreferenceFactory(internal=True, name="Internal scoring")
        page = form_page(form_value(preferences=[preference, internal], double_opt_in=False))
        form = VisitorForm.of(client, page)

        assert form.name(f"preference-{internal.pk}") not in form.inputs
        assert "Internal scoring" not in form.html

        send(form, preferences=[preference, internal])

        assert held(Contact.objects.get()) == {preference.pk}
        assert internal.pk not in [
            p["id"] for p in FormSubmission.objects.get().choices["preferences"]
        ]

    def test_an_update_form_takes_a_recognised_visitors_own_address_whatever_is_posted(
        self, client, preference
    ):
        contact = ContactFactory(confirmed=True)
        recognise(client, contact)
        form = VisitorForm.of(
            client, form_page(form_value(mode="update", preferences=[preference]))
        )

        send(form, email="someone.else@example.com", preferences=[preference])

        assert list(Contact.objects.values_list("email", flat=True)) == [contact.email]
        assert held(contact) == {preference.pk}


class TestValidation:
    @pytest.fixture
    def page(self, preference):
        return form_page(
            form_value(
                first_name="required",
                preferences=[{"preference": preference, "required": True}],
            ),
            form_value(heading="Second form"),
        )

    def assert_shown_again(self, response, form, field, message, before) -> str:
        """The page again, status 200, this form showing ``message`` on ``field``."""
        html = response.content.decode()
        assert response.status_code == 200
        assert db_state() == before
        assert html.count("There is a problem") == 1
        assert f'<a href="#id_{form.name(field)}">' in html
        assert f"{message}</p>" in html
        tag = input_tag(html, form.name(field))
        assert 'aria-invalid="true"' in tag
        assert f"id_{form.name(field)}-error" in tag
        assert "private" in response["Cache-Control"]
        return html

    def test_an_invalid_email_shows_the_form_again_with_what_was_typed(
        self, client, page, preference
    ):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="not-an-email", first_name="Ada", preferences=[preference])

        html = self.assert_shown_again(
            response, form, "email", "Enter a valid email address.", before
        )
        assert 'value="not-an-email"' in input_tag(html, form.name("email"))
        assert 'value="Ada"' in input_tag(html, form.name("first_name"))
        assert "checked" in input_tag(html, form.name(f"preference-{preference.pk}"))

    def test_a_missing_required_first_name_is_an_error(self, client, page, preference):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="ada@example.com", preferences=[preference])

        html = self.assert_shown_again(
            response, form, "first_name", "This field is required.", before
        )
        assert 'value="ada@example.com"' in input_tag(html, form.name("email"))

    def test_a_required_preference_left_unticked_is_an_error(self, client, page, preference):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="ada@example.com", first_name="Ada")

        self.assert_shown_again(
            response, form, f"preference-{preference.pk}", "This field is required.", before
        )

    def test_the_page_is_shown_again_as_a_get_through_the_sites_serve_hooks(self, client, page):
        form = VisitorForm.of(client, page)
        served = []

        def before_serve(page, request, args, kwargs):
            served.append((page.pk, request.method))

        with hooks.register_temporarily("before_serve_page", before_serve):
            response = send(form, email="not-an-email")

        assert response.status_code == 200
        assert served == [(page.pk, "GET")]

    def test_the_other_forms_of_the_page_are_shown_unbound(self, client, page):
        first, second = VisitorForm.of(client, page), VisitorForm.of(client, page, index=1)

        response = send(first, email="not-an-email")

        html = response.content.decode()
        forms = re.findall(r'<form class="wp-form".*?</form>', html, re.S)
        assert len(forms) == 2
        assert "There is a problem" in forms[0]
        assert "There is a problem" not in forms[1]
        assert "not-an-email" not in forms[1]
        assert "value=" not in input_tag(forms[1], second.name("email"))
