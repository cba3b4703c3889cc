"""The preference form block: what an editor may configure, what a visitor sees, how each
form on a page is keyed, and the update form a recognised visitor sees prefilled."""

import re

import pytest
from django.test import RequestFactory
from wagtail.blocks.struct_block import StructBlockValidationError

from tests.dynamic_helpers import condition
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    UserFactory,
)
from tests.submission_fixtures import (
    held,
    send,
)
from tests.testapp.models import FormPage
from tests.visitor_helpers import VisitorForm, block_keys, form_page, form_value
from tests.visitors.submission_helpers import recognise
from wagtail_preferences.blocks import PreferenceFormBlock
from wagtail_preferences.blocks.location import find_block
from wagtail_preferences.conf import get_setting
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import Contact, FormSubmission
from wagtail_preferences.visitors.forms import SubscriptionForm, form_prefix

pytestmark = pytest.mark.django_db


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html).group(0)


def is_checked(html: str, name: str) -> bool:
    return re.search(r"\schecked(\s|>|=)", input_tag(html, name)) is not None


def nested(*forms) -> list[dict]:
    """Raw StreamField data: the forms inside the left column of a columns block."""
    return [
        {
            "type": "columns",
            "value": {
                "left": [{"type": "preference_form", "value": value} for value in forms],
                "right": [{"type": "paragraph", "value": "<p>Beside the form</p>"}],
            },
        }
    ]


class TestEditorValidation:
    @staticmethod
    def clean(**options):
        block = PreferenceFormBlock()
        return block.clean(block.to_python(form_value(**options)))

    @staticmethod
    def problems(**options) -> list[str]:
        with pytest.raises(StructBlockValidationError) as raised:
            TestEditorValidation.clean(**options)
        return list(raised.value.non_block_errors)

    def test_public_preferences_and_categories_ticked_are_accepted_as_ids(self):
        first, second = PreferenceFactory(), PreferenceFactory()
        category = CategoryFactory()

        value = self.clean(
            preferences=[first, {"preference": second, "required": True}],
            categories=[category],
            ticked_categories=[category],
        )

        assert value["preferences"] == [str(first.pk), str(second.pk)]
        assert value["required_preferences"] == [str(second.pk)]
        assert value["categories"] == value["ticked_categories"] == [str(category.pk)]

    def test_an_internal_preference_cannot_be_offered(self):
        internal = PreferenceFactory(internal=True, name="Lead score")

        with pytest.raises(StructBlockValidationError) as raised:
            self.clean(preferences=[PreferenceFactory(), internal])

        assert set(raised.value.block_errors) == {"preferences"}

    def test_a_preference_ticked_by_default_or_required_must_be_offered(self):
        offered, other = PreferenceFactory(), PreferenceFactory()
        value = form_value(preferences=[offered])
        value["preselected_preferences"] = [str(other.pk)]
        value["required_preferences"] = [str(other.pk)]
        block = PreferenceFormBlock()

        with pytest.raises(StructBlockValidationError) as raised:
            block.clean(block.to_python(value))

        assert list(raised.value.non_block_errors) == [
            "“Ticked when the form opens” can only hold what “Preferences offered” holds.",
            "“Must be ticked” can only hold what “Preferences offered” holds.",
        ]

    def test_a_category_box_that_starts_ticked_must_be_offered(self):
        assert self.problems(
            categories=[CategoryFactory()], ticked_categories=[CategoryFactory()]
        ) == ["“Category boxes that start ticked” can only hold what “Categories offered” holds."]

    def test_the_consent_text_is_required(self):
        with pytest.raises(StructBlockValidationError) as raised:
            self.clean(consent_text="")

        assert set(raised.value.block_errors) == {"consent_text"}


class TestRendering:
    def test_the_form_names_its_page_and_block_and_posts_to_the_endpoint(self, client):
        page = form_page()

        html = client.get(page.url).content.decode()

        (key,) = block_keys(page)
        assert '<form class="wp-form" method="post" action="/preferences/forms/submit/#' in html
        assert f'name="wagtail_preferences_page" value="{page.pk}"' in html
        assert f'name="wagtail_preferences_block" value="{key}"' in html
        assert f'<section class="wp-block" id="{form_prefix(key)}"' in html

    def test_the_form_shows_what_the_editor_offered(self, client):
        plain = PreferenceFactory(name="Products", description="New things we make.")
        default = PreferenceFactory(name="Trainings")
        required = PreferenceFactory(name="Events")
        category = CategoryFactory(name="Promotions")
        page = form_page(
            form_value(
                heading="Join our list",
                intro="Hear from us.",
                first_name="required",
                last_name="hidden",
                phone="optional",
                preferences=[
                    plain,
                    {"preference": default, "selected_by_default": True},
                    {"preference": required, "required": True},
                ],
                categories=[category],
                consent_text="We keep your consent.",
                button_label="Count me in",
            )
        )

        form = VisitorForm.of(client, page)
        html = form.html
        section = client.get(page.url).content.decode()

        assert "Join our list" in section
        assert "<p>Hear from us.</p>" in section
        assert form.name("last_name") not in form.inputs
        assert "required" in input_tag(html, form.name("first_name"))
        assert "required" not in input_tag(html, form.name("phone"))
        assert 'autocomplete="tel"' in input_tag(html, form.name("phone"))
        assert not is_checked(html, form.name(f"preference-{plain.pk}"))
        assert is_checked(html, form.name(f"preference-{default.pk}"))
        assert 'Events <span class="wp-required">(required)</span>' in html
        assert "Products <span" not in html
        hint = f"id_{form.name(f'preference-{plain.pk}')}-hint"
        assert f'aria-describedby="{hint}"' in input_tag(html, form.name(f"preference-{plain.pk}"))
        assert f'<p class="wp-hint" id="{hint}">New things we make.</p>' in html
        assert form.name(f"category-{category.pk}") in form.inputs
        assert "<legend>Send me</legend>" in html
        assert '<div class="wp-consent"><p>We keep your consent.</p></div>' in html
        assert '<button type="submit" class="wp-button">Count me in</button>' in html

    def test_the_honeypot_is_hidden_from_people_and_kept_out_of_the_tab_order(self, client):
        form = VisitorForm.of(client, form_page())

        honeypot = re.search(r'<div class="wp-hp" aria-hidden="true".*?</div>', form.html, re.S)

        assert honeypot is not None
        assert 'tabindex="-1"' in input_tag(honeypot.group(0), form.name("website"))
        assert form.name("started") in form.hidden

    def test_an_internal_preference_is_not_shown_even_if_the_page_offers_it(self, client):
        internal = PreferenceFactory(internal=True, name="Lead score")
        public = PreferenceFactory(name="Products")

        form = VisitorForm.of(client, form_page(preferences=[internal, public]))

        assert form.name(f"preference-{public.pk}") in form.inputs
        assert form.name(f"preference-{internal.pk}") not in form.inputs
        assert "Lead score" not in form.html

    def test_a_block_rendered_outside_a_page_shows_no_form(self):
        block = PreferenceFormBlock()
        value = block.to_python(form_value())

        html = block.render(value, context={"request": RequestFactory().get("/")})

        assert "This form can only be used on a published page." in html
        assert "<form" not in html


class TestKeys:
    def test_each_form_of_a_page_has_its_own_key_and_prefix(self, client):
        page = form_page(form_value(heading="One"), form_value(heading="Two"))

        first, second = VisitorForm.of(client, page), VisitorForm.of(client, page, index=1)

        assert [first.key, second.key] == block_keys(page)
        assert first.key != second.key
        assert first.prefix != second.prefix
        assert first.prefix == form_prefix(first.key)
        assert not any(name.startswith(second.prefix) for name in first.inputs)

    def test_a_key_stays_the_same_when_the_page_is_edited(self):
        page = form_page(form_value(heading="One"), form_value(heading="Two"))
        keys = block_keys(page)

        page.title = "Renamed"
        body = list(page.body.raw_data)
        page.body = [body[1], {"type": "paragraph", "value": "<p>New</p>"}, body[0]]
        page.save_revision().publish()

        assert block_keys(FormPage.objects.get(pk=page.pk)) == [keys[1], keys[0]]

    def test_a_key_finds_its_own_block_and_no_other(self):
        page = form_page(form_value(heading="One"), form_value(heading="Two"))
        first, second = block_keys(page)

        assert find_block(page, PreferenceFormBlock, first)["heading"] == "One"
        assert find_block(page, PreferenceFormBlock, second)["heading"] == "Two"
        assert find_block(page, PreferenceFormBlock, "missing") is None

    def test_a_form_nested_in_another_block_is_rendered_keyed_and_accepted(self, client):
        preference = PreferenceFactory()
        page = form_page(body=nested(form_value(preferences=[preference], double_opt_in=False)))

        form = VisitorForm.of(client, page)
        response = send(form, preferences=[preference])

        (key,) = block_keys(page)
        assert form.key == key
        assert find_block(page, PreferenceFormBlock, key) is not None
        assert response.status_code == 303
        assert FormSubmission.objects.get().block_key == key
        assert held(Contact.objects.get()) == {preference.pk}

    def test_a_nested_form_with_errors_is_shown_again_with_them(self, client):
        page = form_page(body=nested(form_value()))
        form = VisitorForm.of(client, page)

        response = send(form, email="not-an-email")

        html = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in html
        assert 'value="not-an-email"' in html
        assert "Beside the form" in html

    def test_forms_at_the_top_and_nested_on_one_page_stay_apart(self, client):
        top_choice, nested_choice = PreferenceFactory(), PreferenceFactory()
        page = form_page(
            body=[
                {
                    "type": "preference_form",
                    "value": form_value(preferences=[top_choice], double_opt_in=False),
                },
                *nested(form_value(preferences=[nested_choice], double_opt_in=False)),
            ]
        )
        top, inner = VisitorForm.of(client, page), VisitorForm.of(client, page, index=1)

        response = send(inner, preferences=[nested_choice])

        assert len(set(block_keys(page))) == 2
        assert {top.key, inner.key} == set(block_keys(page))
        assert response["Location"].endswith(f"#{inner.prefix}")
        assert held(Contact.objects.get()) == {nested_choice.pk}
        assert FormSubmission.objects.get().block_key == inner.key


class TestSeveralForms:
    def test_each_form_changes_only_what_it_offers(self, client):
        first_choice, second_choice = PreferenceFactory(), PreferenceFactory()
        page = form_page(
            form_value(preferences=[first_choice], double_opt_in=False),
            form_value(preferences=[second_choice], double_opt_in=False),
        )
        second = VisitorForm.of(client, page, index=1)

        send(second, preferences=[second_choice], **{f"preference-{first_choice.pk}": "on"})

        assert held(Contact.objects.get()) == {second_choice.pk}

    def test_a_post_with_the_inputs_of_the_other_form_is_not_the_other_forms(self, client):
        first_choice, second_choice = PreferenceFactory(), PreferenceFactory()
        page = form_page(
            form_value(preferences=[first_choice], double_opt_in=False),
            form_value(preferences=[second_choice], double_opt_in=False),
        )
        first, second = VisitorForm.of(client, page), VisitorForm.of(client, page, index=1)
        data = {
            **first.data(email="ada@example.com", preferences=[first_choice]),
            "wagtail_preferences_block": second.key,
        }

        response = client.post("/preferences/forms/submit/", data)

        assert response.status_code == 200
        assert "There is a problem" in response.content.decode()
        assert not Contact.objects.exists()


class TestUpdateForm:
    @pytest.fixture
    def subscribed(self):
        return CategoryFactory(name="Tips")

    @pytest.fixture
    def contact(self, products, promotions):
        contact = ContactFactory(
            confirmed=True, email="grace@example.com", first_name="Grace", preferences=[products]
        )
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        return contact

    @pytest.fixture
    def page(self, products, trainings, promotions, subscribed):
        return form_page(
            form_value(
                mode="update",
                preferences=[
                    products,
                    {"preference": trainings, "selected_by_default": True},
                ],
                categories=[promotions, subscribed],
            )
        )

    def assert_prefilled(self, form, products, trainings, promotions, subscribed):
        html = form.html
        assert "You are signed up as <strong>grace@example.com</strong>." in html
        email = input_tag(html, form.name("email"))
        assert "disabled" in email
        assert 'value="grace@example.com"' in email
        assert 'value="Grace"' in input_tag(html, form.name("first_name"))
        assert is_checked(html, form.name(f"preference-{products.pk}"))
        assert not is_checked(html, form.name(f"preference-{trainings.pk}"))
        assert not is_checked(html, form.name(f"category-{promotions.pk}"))
        assert is_checked(html, form.name(f"category-{subscribed.pk}"))
        assert "Email me a link to manage my preferences" not in html

    def test_a_visitor_recognised_by_the_cookie_sees_their_choices(
        self, client, page, contact, products, trainings, promotions, subscribed
    ):
        recognise(client, contact)

        form = VisitorForm.of(client, page)

        self.assert_prefilled(form, products, trainings, promotions, subscribed)

    def test_a_signed_in_user_linked_to_the_contact_sees_their_choices(
        self, client, page, contact, products, trainings, promotions, subscribed
    ):
        user = UserFactory()
        Contact.objects.filter(pk=contact.pk).update(user=user)
        client.force_login(user)

        form = VisitorForm.of(client, page)

        self.assert_prefilled(form, products, trainings, promotions, subscribed)

    def test_a_signed_in_user_without_a_contact_is_not_recognised(self, client, page, contact):
        client.force_login(UserFactory())

        html = VisitorForm.of(client, page).html

        assert "You are signed up as" not in html
        assert "Email me a link to manage my preferences" in html

    @pytest.mark.parametrize("cookie", [None, "forged-token", "wrong-purpose"])
    def test_an_unrecognised_visitor_sees_an_empty_form_and_the_email_me_a_link_hint(
        self, client, page, contact, trainings, cookie
    ):
        if cookie == "wrong-purpose":
            cookie = tokens.contact_token(contact, purpose="manage")
        if cookie:
            client.cookies[get_setting("IDENTITY_COOKIE_NAME")] = cookie

        form = VisitorForm.of(client, page)

        email = input_tag(form.html, form.name("email"))
        assert "disabled" not in email
        assert "value=" not in email
        assert "grace@example.com" not in form.html
        assert is_checked(form.html, form.name(f"preference-{trainings.pk}"))
        assert "This browser does not know you yet." in form.html
        assert (
            '<a href="/preferences/link/">Email me a link to manage my preferences</a>' in form.html
        )

    def test_an_opt_in_form_ignores_a_recognised_visitor_who_is_not_subscribed(
        self, client, products
    ):
        recognise(client, ContactFactory(email="pending@example.com", preferences=[products]))

        form = VisitorForm.of(client, form_page(preferences=[products]))

        assert "Email me a link" not in form.html
        assert "pending@example.com" not in form.html
        assert not is_checked(form.html, form.name(f"preference-{products.pk}"))

    def test_a_page_with_an_update_form_is_private_and_varies_by_cookie(
        self, client, page, contact
    ):
        recognise(client, contact)

        response = client.get(page.url)

        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]

    def test_an_unknown_visitors_update_form_varies_by_cookie_but_may_be_cached(self, client, page):
        response = client.get(page.url)

        assert "Cookie" in response["Vary"]
        assert "private" not in response.get("Cache-Control", "")

    def test_an_unknown_visitors_opt_in_form_varies_by_cookie_but_may_be_cached(self, client):
        response = client.get(form_page().url)

        assert "Cookie" in response["Vary"]
        assert "private" not in response.get("Cache-Control", "")


class TestRecognisedSubscriber:
    """An opt-in form seen by a subscriber the site recognises."""

    @pytest.fixture
    def contact(self, products):
        return ContactFactory(
            confirmed=True, email="grace@example.com", first_name="Grace", preferences=[products]
        )

    def test_sees_their_update_form_instead_of_an_empty_one(
        self, client, contact, products, trainings
    ):
        recognise(client, contact)

        form = VisitorForm.of(client, form_page(preferences=[products, trainings]))

        assert "You are signed up as <strong>grace@example.com</strong>." in form.html
        assert "disabled" in input_tag(form.html, form.name("email"))
        assert is_checked(form.html, form.name(f"preference-{products.pk}"))
        assert not is_checked(form.html, form.name(f"preference-{trainings.pk}"))

    def test_sees_a_masked_line_when_the_editor_chose_it(self, client, contact, products):
        recognise(client, contact)

        response = client.get(form_page(form_value(preferences=[products], recognised="line")).url)

        html = response.content.decode()
        assert "You are subscribed as <strong>g…@example.com</strong>." in html
        assert '<a href="/preferences/manage/">Manage your preferences</a>' in html
        assert "grace@example.com" not in html
        assert '<form class="wp-form"' not in html

    @pytest.mark.parametrize("recognised", ["update_form", "line"])
    def test_the_page_is_private_and_varies_by_cookie(self, client, contact, recognised):
        recognise(client, contact)

        response = client.get(form_page(form_value(recognised=recognised)).url)

        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]

    def test_an_unsubscribed_visitor_sees_the_empty_sign_up_form(self, client, products):
        recognise(client, ContactFactory(unsubscribed=True, email="gone@example.com"))

        form = VisitorForm.of(client, form_page(form_value(recognised="line")))

        assert "gone@example.com" not in form.html
        assert "You are subscribed as" not in form.html
        assert "disabled" not in input_tag(form.html, form.name("email"))

    def test_masking_keeps_no_more_than_the_first_letter_and_the_domain(self):
        form = SubscriptionForm(PreferenceFormBlock().to_python(form_value()))
        form.subscriber = ContactFactory.build(email="x@example.org")

        assert form.masked_email() == "x…@example.org"


class TestInsideDynamicContent:
    """A form placed in a dynamic content block: shown to the visitors it is meant for,
    keyed within the page, and accepted when sent."""

    def page(self, products, **form_options):
        form = {
            "type": "preference_form",
            "value": form_value(preferences=[products], **form_options),
        }
        return form_page(
            body=[
                {
                    "type": "dynamic",
                    "value": {
                        "condition": condition(preferences=[products]),
                        "content": [{"type": "paragraph", "value": "<p>ALREADY WITH US</p>"}],
                        "fallback": [form],
                    },
                }
            ]
        )

    def test_an_unknown_visitor_sees_the_form_and_can_send_it(self, client, products):
        page = self.page(products, double_opt_in=False)

        form = VisitorForm.of(client, page)
        response = send(form, preferences=[products])

        (key,) = block_keys(page)
        assert form.key == key
        assert response.status_code == 303
        assert held(Contact.objects.get()) == {products.pk}

    def test_a_subscriber_in_the_fallback_sees_their_update_form(self, client, products):
        recognise(client, ContactFactory(confirmed=True, email="ann@example.com"))

        form = VisitorForm.of(client, self.page(products))

        assert "You are signed up as <strong>ann@example.com</strong>." in form.html

    def test_a_subscriber_it_is_not_meant_for_sees_the_content(self, client, products):
        recognise(client, ContactFactory(confirmed=True, preferences=[products]))

        response = client.get(self.page(products).url)

        html = response.content.decode()
        assert "ALREADY WITH US" in html
        assert '<form class="wp-form"' not in html
        assert "private" in response["Cache-Control"]
