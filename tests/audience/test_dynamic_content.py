"""Dynamic content and first-match blocks on pages: what each visitor sees, what it costs,
how the editor configures it."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.dynamic_helpers import condition, dynamic, dynamic_page, shown, variants, visitor
from tests.factories import CategoryChoiceFactory, ContactFactory, SegmentFactory
from tests.testapp.models import FormPage
from tests.visitor_helpers import form_value
from wagtail_preferences.models import Preference, SegmentMember

pytestmark = pytest.mark.django_db


def paragraph(text: str) -> dict:
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def body_block(name: str):
    return FormPage._meta.get_field("body").stream_block.child_blocks[name]


def is_private(response) -> bool:
    return "private" in response.get("Cache-Control", "")


def varies_by_cookie(response) -> bool:
    return "cookie" in response.get("Vary", "").lower()


@pytest.fixture
def holder(products):
    return ContactFactory(confirmed=True, preferences=[products])


class TestDynamicContentBlock:
    @pytest.fixture
    def page(self, products):
        return dynamic_page(
            paragraph("BEFORE"), dynamic(preferences=[products]), paragraph("AFTER")
        )

    def test_a_matching_visitor_sees_the_content(self, client, page, holder):
        response = visitor(client, holder).get(page.url)

        assert response.status_code == 200
        assert shown(response) == ["BEFORE", "MATCHED", "AFTER"]
        assert is_private(response)
        assert varies_by_cookie(response)

    def test_a_visitor_who_does_not_match_sees_the_fallback(self, client, page, events):
        other = ContactFactory(preferences=[events])

        response = visitor(client, other).get(page.url)

        assert shown(response) == ["BEFORE", "FALLBACK", "AFTER"]
        assert is_private(response)

    def test_an_unknown_visitor_sees_the_fallback_in_a_cacheable_page(self, client, page):
        response = client.get(page.url)

        assert shown(response) == ["BEFORE", "FALLBACK", "AFTER"]
        assert not is_private(response)
        assert varies_by_cookie(response)

    @pytest.mark.parametrize("known", [False, True])
    def test_an_empty_fallback_shows_nothing(self, client, products, events, known):
        page = dynamic_page(
            paragraph("BEFORE"), dynamic(preferences=[products], fallback=None), paragraph("AFTER")
        )
        if known:
            visitor(client, ContactFactory(preferences=[events]))

        response = client.get(page.url)

        assert shown(response) == ["BEFORE", "AFTER"]
        assert "MATCHED" not in response.content.decode()

    @pytest.mark.parametrize(
        ("options", "expected"),
        [
            ({"rule": "all", "preferences": ["products", "events"]}, "FALLBACK"),
            ({"rule": "all", "preferences": ["products"]}, "MATCHED"),
            ({"rule": "none", "preferences": ["events"]}, "MATCHED"),
            ({"rule": "none", "preferences": ["products"]}, "FALLBACK"),
            ({"category": "promotions"}, "MATCHED"),
            ({"segment": "segment"}, "MATCHED"),
            ({"segment": "other_segment"}, "FALLBACK"),
            ({}, "MATCHED"),
        ],
    )
    def test_conditions_on_the_page(self, client, request, holder, promotions, options, expected):
        segment, other_segment = SegmentFactory(), SegmentFactory()
        SegmentMember.objects.create(segment=segment, contact=holder)
        named = {"segment": segment, "other_segment": other_segment, "promotions": promotions}
        for name in ("products", "events"):
            named[name] = request.getfixturevalue(name)
        resolved = {
            key: [named[v] for v in value] if isinstance(value, list) else named[value]
            for key, value in options.items()
            if key != "rule"
        }
        page = dynamic_page(dynamic(rule=options.get("rule", "any"), **resolved))

        assert shown(visitor(client, holder).get(page.url)) == [expected]

    def test_the_empty_condition_welcomes_back_any_recognised_visitor_only(self, client):
        page = dynamic_page(dynamic(content="WELCOME BACK", fallback="HELLO"))

        assert shown(client.get(page.url)) == ["HELLO"]
        assert shown(visitor(client, ContactFactory()).get(page.url)) == ["WELCOME BACK"]

    def test_an_opted_out_category_shows_the_fallback(self, client, holder, promotions):
        CategoryChoiceFactory(contact=holder, category=promotions, subscribed=False)
        page = dynamic_page(dynamic(category=promotions))

        assert shown(visitor(client, holder).get(page.url)) == ["FALLBACK"]

    @pytest.mark.parametrize("status", ["unsubscribed", "blocked"])
    def test_contacts_not_receiving_categories(self, client, promotions, status):
        page = dynamic_page(dynamic(category=promotions))

        response = visitor(client, ContactFactory(**{status: True})).get(page.url)

        assert shown(response) == ["FALLBACK"]

    def test_a_signed_in_user_linked_to_a_contact_is_recognised(self, client, products, holder):
        from tests.factories import UserFactory

        user = UserFactory()
        holder.user = user
        holder.save()
        page = dynamic_page(dynamic(preferences=[products]))
        client.force_login(user)

        response = client.get(page.url)

        assert shown(response) == ["MATCHED"]
        assert is_private(response)

    def test_rendered_without_a_request_it_shows_the_fallback(self, products):
        block = body_block("dynamic")
        value = block.to_python(dynamic(preferences=[products])["value"])

        html = str(block.render(value))
        assert "<p>FALLBACK</p>" in html
        assert "MATCHED" not in html
        assert block.shown(value, {}) == "fallback"


class TestDeletedInterests:
    def test_a_deleted_preference_is_held_by_nobody(self, client, products, events, holder):
        holder_of_both = ContactFactory(preferences=[products, events])
        page = dynamic_page(
            dynamic(content="ANY", fallback="NOT ANY", preferences=[events]),
            dynamic(content="NONE", fallback="NOT NONE", rule="none", preferences=[events]),
        )
        Preference.objects.filter(pk=events.pk).delete()

        assert shown(visitor(client, holder_of_both).get(page.url)) == ["NOT ANY", "NONE"]

    def test_a_value_with_a_deleted_preference_is_not_valid(self, products, events):
        block = body_block("dynamic")
        raw = dynamic(preferences=[products, events])["value"]
        assert block.clean(block.to_python(raw))
        events.delete()

        with pytest.raises(ValidationError) as error:
            block.clean(block.to_python(raw))

        assert "condition" in json.dumps(error.value.as_json_data())

    def test_a_deleted_category_or_segment_is_not_valid(self, promotions):
        block = body_block("dynamic")
        segment = SegmentFactory()
        raw = dynamic(category=promotions, segment=segment)["value"]
        assert block.clean(block.to_python(raw))
        promotions.delete()
        segment.delete()

        with pytest.raises(ValidationError):
            block.clean(block.to_python(raw))

    def test_an_unknown_rule_is_not_valid(self):
        block = body_block("dynamic")
        raw = dynamic(rule="sometimes")["value"]

        with pytest.raises(ValidationError):
            block.clean(block.to_python(raw))

    def test_content_is_required_and_the_fallback_is_not(self):
        block = body_block("dynamic")
        assert block.clean(block.to_python(dynamic(fallback=None)["value"]))

        with pytest.raises(ValidationError):
            block.clean(block.to_python(dynamic(content=None)["value"]))


class TestFirstMatchBlock:
    @pytest.fixture
    def page(self, products, events):
        return dynamic_page(
            variants(
                (condition(preferences=[events]), "EVENTS"),
                (condition(preferences=[products]), "PRODUCTS"),
                (condition(), "ANYONE"),
            )
        )

    def test_the_first_matching_variant_in_order(self, client, page, products, events):
        both = ContactFactory(preferences=[products, events])

        assert shown(visitor(client, both).get(page.url)) == ["EVENTS"]

    def test_a_later_variant_when_earlier_ones_do_not_match(self, client, page, holder):
        assert shown(visitor(client, holder).get(page.url)) == ["PRODUCTS"]

    def test_a_catch_all_variant_for_recognised_visitors(self, client, page):
        response = visitor(client, ContactFactory()).get(page.url)

        assert shown(response) == ["ANYONE"]
        assert is_private(response)

    def test_an_unknown_visitor_sees_the_default(self, client, page):
        response = client.get(page.url)

        assert shown(response) == ["DEFAULT"]
        assert not is_private(response)
        assert varies_by_cookie(response)

    def test_the_default_when_nothing_matches(self, client, products, events):
        page = dynamic_page(variants((condition(preferences=[events]), "EVENTS")))

        assert shown(visitor(client, ContactFactory(preferences=[products])).get(page.url)) == [
            "DEFAULT"
        ]

    def test_an_empty_default_shows_nothing(self, client, events):
        page = dynamic_page(
            paragraph("BEFORE"),
            variants((condition(preferences=[events]), "EVENTS"), default=None),
        )

        assert shown(client.get(page.url)) == ["BEFORE"]

    def test_at_least_one_variant_is_required(self):
        block = body_block("variants")
        raw = variants()["value"]

        with pytest.raises(ValidationError):
            block.clean(block.to_python(raw))


class TestNesting:
    def test_content_holds_several_blocks_of_the_site_rendered_in_order(self, client, holder):
        value = dynamic()["value"]
        value["content"] = [paragraph("ONE"), paragraph("TWO")]
        page = dynamic_page({"type": "dynamic", "value": value})

        assert shown(visitor(client, holder).get(page.url)) == ["ONE", "TWO"]

    def test_a_preference_form_inside_the_content_renders_for_matching_visitors(
        self, client, products, holder
    ):
        value = dynamic(preferences=[products])["value"]
        value["content"] = [
            paragraph("FORM BELOW"),
            {"type": "preference_form", "value": form_value(preferences=[products])},
        ]
        page = dynamic_page({"type": "dynamic", "value": value})

        matching = visitor(client, holder).get(page.url).content.decode()
        client.cookies.clear()
        unknown = client.get(page.url).content.decode()

        assert 'class="wp-form"' in matching
        assert 'class="wp-form"' not in unknown
        assert "FALLBACK" in unknown

    def test_variant_content_with_a_form(self, client, products, holder):
        value = variants((condition(preferences=[products]), "PRODUCTS"))["value"]
        value["variants"][0]["content"].append(
            {"type": "preference_form", "value": form_value(preferences=[products])}
        )
        page = dynamic_page({"type": "variants", "value": value})

        html = visitor(client, holder).get(page.url).content.decode()

        assert "<p>PRODUCTS</p>" in html
        assert 'class="wp-form"' in html

    def test_dynamic_and_first_match_blocks_side_by_side(self, client, products, events, holder):
        page = dynamic_page(
            dynamic(preferences=[products], content="A"),
            variants((condition(preferences=[events]), "B"), default="C"),
            dynamic(preferences=[events], fallback="D"),
        )

        assert shown(visitor(client, holder).get(page.url)) == ["A", "C", "D"]


class TestQueries:
    def queries(self, client, page) -> list[str]:
        client.get(page.url)  # warm any per-site caches first
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page.url)
        assert response.status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    @pytest.fixture
    def pages(self, products, events, promotions):
        one = dynamic_page(dynamic(preferences=[products]), title="One")
        many = dynamic_page(
            *(
                dynamic(preferences=[products, events], rule="all", category=promotions)
                for _ in range(25)
            ),
            *(
                variants(
                    (condition(preferences=[events]), "EVENTS"),
                    (condition(preferences=[products]), "PRODUCTS"),
                )
                for _ in range(25)
            ),
            title="Many",
        )
        return one, many

    def test_fifty_blocks_cost_what_one_costs_for_a_recognised_visitor(self, client, pages, holder):
        one, many = pages
        visitor(client, holder)

        one_queries, many_queries = self.queries(client, one), self.queries(client, many)

        assert len(many_queries) == len(one_queries), many_queries
        assert shown(client.get(many.url)).count("PRODUCTS") == 25

    def test_fifty_blocks_cost_what_one_costs_for_an_unknown_visitor(self, client, pages):
        one, many = pages

        one_queries, many_queries = self.queries(client, one), self.queries(client, many)

        assert len(many_queries) == len(one_queries), many_queries
        assert shown(client.get(many.url)) == ["FALLBACK"] * 25 + ["DEFAULT"] * 25

    def test_the_visitor_costs_two_queries_at_most(self, client, pages, holder):
        one, _ = pages
        plain = dynamic_page(paragraph("PLAIN"), title="Plain")

        unknown = len(self.queries(client, one)) - len(self.queries(client, plain))
        visitor(client, holder)
        known = len(self.queries(client, one)) - len(self.queries(client, plain))

        assert unknown == 0
        assert known <= 2


class TestUnrecognisedCookies:
    @pytest.fixture
    def page(self, products):
        return dynamic_page(dynamic(preferences=[products]))

    @pytest.mark.parametrize("cookie", ["forged", "", "eyJhIjoxfQ:1abc:def"])
    def test_a_forged_cookie_is_an_unknown_visitor(self, client, page, holder, cookie):
        client.cookies["wagtail_preferences"] = cookie

        response = client.get(page.url)

        assert shown(response) == ["FALLBACK"]
        assert not is_private(response)

    def test_a_tampered_cookie_is_an_unknown_visitor(self, client, page, holder):
        visitor(client, holder)
        token = client.cookies["wagtail_preferences"].value
        client.cookies["wagtail_preferences"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

        response = client.get(page.url)

        assert shown(response) == ["FALLBACK"]
        assert not is_private(response)

    def test_an_expired_cookie_is_an_unknown_visitor(self, client, page, holder):
        visitor(client, holder)
        assert shown(client.get(page.url)) == ["MATCHED"]

        with time_machine.travel(timezone.now() + timedelta(days=181)):
            response = client.get(page.url)

        assert shown(response) == ["FALLBACK"]
        assert not is_private(response)

    def test_a_cookie_of_a_rotated_secret_is_an_unknown_visitor(self, client, page, holder):
        visitor(client, holder)
        holder.rotate_secret()

        assert shown(client.get(page.url)) == ["FALLBACK"]

    def test_a_cookie_of_a_deleted_contact_is_an_unknown_visitor(self, client, page, holder):
        visitor(client, holder)
        holder.delete()

        assert shown(client.get(page.url)) == ["FALLBACK"]


class TestEditor:
    @pytest.fixture
    def admin(self, client, superuser):
        client.force_login(superuser)
        return client

    def test_the_page_editor_offers_the_blocks_with_their_script(
        self, admin, products, events, promotions
    ):
        segment = SegmentFactory(name="Loyal customers")
        page = dynamic_page(
            dynamic(preferences=[products], category=promotions, segment=segment),
            variants((condition(preferences=[events]), "EVENTS")),
        )

        response = admin.get(f"/admin/pages/{page.pk}/edit/")

        assert response.status_code == 200
        html = response.content.decode()
        assert "wagtail_preferences/js/condition-block.js" in html
        assert "wagtail_preferences.blocks.ConditionBlock" in html
        for name in (products.name, events.name, promotions.name, segment.name):
            assert name in html
        assert "Every recognised visitor" in html

    def test_the_new_page_form_renders(self, admin):
        from tests.visitor_helpers import site_root

        response = admin.get(f"/admin/pages/add/testapp/formpage/{site_root().pk}/")

        assert response.status_code == 200
        assert "wagtail_preferences/js/condition-block.js" in response.content.decode()

    def test_the_choices_are_read_when_the_form_is_built(self, products):
        block = body_block("dynamic").child_blocks["condition"]
        field = block.child_blocks["preferences"].field
        assert (str(products.pk), products.name) in list(field.choices)

    def test_saving_a_page_through_the_editor_keeps_ids_as_text(self, products, events):
        page = dynamic_page(dynamic(preferences=[products, events]))

        stored = FormPage.objects.get(pk=page.pk).body.raw_data[0]["value"]["condition"]

        assert stored["preferences"] == [str(products.pk), str(events.pk)]


class TestStoredValues:
    def test_reading_a_condition_asks_the_database_nothing(
        self, django_assert_num_queries, products, promotions
    ):
        block = body_block("dynamic")
        raw = dynamic(preferences=[products], category=promotions)["value"]

        with django_assert_num_queries(0):
            value = block.to_python(raw)

        assert value["condition"]["preferences"] == [str(products.pk)]
        assert value["condition"]["category"] == str(promotions.pk)

    def test_ids_stored_as_numbers_read_as_text(self, products, promotions):
        block = body_block("dynamic").child_blocks["condition"]

        value = block.to_python(
            {
                "rule": "any",
                "preferences": [products.pk],
                "category": promotions.pk,
                "segment": None,
            }
        )

        assert value["preferences"] == [str(products.pk)]
        assert value["category"] == str(promotions.pk)
        assert value["segment"] is None

    def test_the_search_index_gets_the_content_not_the_condition(self, products):
        block = body_block("dynamic")
        value = block.to_python(dynamic(preferences=[products])["value"])

        content = " ".join(block.get_searchable_content(value))

        assert "MATCHED" in content
        assert "FALLBACK" in content
        assert products.name not in content
