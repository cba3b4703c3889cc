"""The preference form block as editors meet it: checkboxes stored as ids, forms saved with
the old choosers still read, the block picker's description and preview, the collapsed
label, what site search indexes and what the API gives."""

import json

import pytest
from django import forms
from django.urls import reverse
from wagtail.blocks.struct_block import StructBlockAdapter

from tests.factories import CategoryFactory, PreferenceFactory, SegmentFactory
from tests.submission_fixtures import held, send
from tests.testapp.models import BodyBlock, FormPage
from tests.visitor_helpers import VisitorForm, form_page, form_value
from wagtail_preferences.blocks import DynamicContentBlock, FirstMatchBlock, PreferenceFormBlock
from wagtail_preferences.models import Contact

pytestmark = pytest.mark.django_db


def chooser_list(values) -> list[dict]:
    """A list block's stored items, as Wagtail stores them since list items have ids."""
    return [{"type": "item", "value": value, "id": f"id-{i}"} for i, value in enumerate(values)]


def chooser_form(preferences, categories, segments=(), **options) -> dict:
    """A form as pages stored it when preferences, categories and segments had choosers."""
    value = form_value(**options)
    for name in ("preselected_preferences", "required_preferences", "ticked_categories"):
        del value[name]
    del value["recognised"]
    value["preferences"] = chooser_list(
        [
            {"preference": p.pk, "selected_by_default": default, "required": required}
            for p, default, required in preferences
        ]
    )
    value["categories"] = chooser_list([c.pk for c in categories])
    value["segments"] = chooser_list([s.pk for s in segments])
    return value


@pytest.fixture
def products():
    return PreferenceFactory(name="Products")


@pytest.fixture
def events():
    return PreferenceFactory(name="Events")


@pytest.fixture
def invitations():
    return CategoryFactory(name="Event invitations")


class TestFormsSavedWithChoosers:
    def test_are_read_as_the_same_choices(self, products, events, invitations):
        segment = SegmentFactory()
        raw = chooser_form(
            [(products, True, False), (events, False, True)], [invitations], [segment]
        )

        value = PreferenceFormBlock().to_python(raw)

        assert value["preferences"] == [str(products.pk), str(events.pk)]
        assert value["preselected_preferences"] == [str(products.pk)]
        assert value["required_preferences"] == [str(events.pk)]
        assert value["categories"] == [str(invitations.pk)]
        assert value["ticked_categories"] == []
        assert value["segments"] == [str(segment.pk)]
        assert value["recognised"] == "update_form"

    def test_items_stored_without_ids_are_read_too(self, products, invitations):
        raw = chooser_form([(products, False, True)], [invitations])
        raw["preferences"] = [item["value"] for item in raw["preferences"]]
        raw["categories"] = [item["value"] for item in raw["categories"]]

        value = PreferenceFormBlock().to_python(raw)

        assert value["required_preferences"] == [str(products.pk)]
        assert value["categories"] == [str(invitations.pk)]

    def test_a_published_page_keeps_its_form_and_takes_submissions(
        self, client, products, events, invitations
    ):
        raw = chooser_form(
            [(products, True, False), (events, False, True)], [invitations], double_opt_in=False
        )
        page = form_page(raw)

        form = VisitorForm.of(client, page)
        response = send(form, preferences=[events])

        assert 'Events <span class="wp-required">(required)</span>' in form.html
        assert form.name(f"category-{invitations.pk}") in form.inputs
        assert response.status_code == 303
        assert held(Contact.objects.get()) == {events.pk}

    def test_a_page_edited_and_saved_again_stores_the_checkbox_shape(self, products, invitations):
        page = form_page(chooser_form([(products, True, False)], [invitations]))

        page.body[0].value["heading"] = "Edited"
        page.save_revision().publish()

        stored = FormPage.objects.get(pk=page.pk).body.raw_data
        assert stored[0]["value"]["preferences"] == [str(products.pk)]
        assert stored[0]["value"]["preselected_preferences"] == [str(products.pk)]
        assert stored[0]["value"]["categories"] == [str(invitations.pk)]

    def test_a_draft_saved_with_choosers_opens_in_the_page_editor(
        self, admin_client, products, invitations
    ):
        page = form_page(chooser_form([(products, True, False)], [invitations]))
        page.body = json.dumps(
            [{"type": "preference_form", "value": chooser_form([], [invitations])}]
        )
        page.save_revision()

        response = admin_client.get(reverse("wagtailadmin_pages:edit", args=[page.pk]))

        assert response.status_code == 200
        assert f'"categories": ["{invitations.pk}"]' in response.content.decode().replace(
            "&quot;", '"'
        )

    def test_an_empty_chooser_is_left_out(self, products):
        raw = chooser_form([(products, False, False)], [])
        raw["preferences"].append({"type": "item", "value": {"preference": None}, "id": "x"})
        raw["categories"].append({"type": "item", "value": None, "id": "y"})

        value = PreferenceFormBlock().to_python(raw)

        assert value["preferences"] == [str(products.pk)]
        assert value["categories"] == []


class TestCheckboxes:
    def test_every_choice_is_a_checkbox_group_and_only_public_preferences_are_offered(
        self, products
    ):
        PreferenceFactory(internal=True, name="Lead score")
        block = PreferenceFormBlock()

        for name in (
            "preferences",
            "preselected_preferences",
            "required_preferences",
            "categories",
            "ticked_categories",
            "segments",
        ):
            assert isinstance(block.child_blocks[name].field.widget, forms.CheckboxSelectMultiple)
        assert [label for _, label in block.child_blocks["preferences"].field.choices] == [
            "Products"
        ]

    def test_reading_a_page_makes_no_query_for_the_choices(
        self, products, invitations, django_assert_num_queries
    ):
        raw = form_value(preferences=[products], categories=[invitations])

        with django_assert_num_queries(0):
            value = PreferenceFormBlock().to_python(raw)

        assert value["preferences"] == [str(products.pk)]

    def test_the_references_name_what_the_form_offers(self, products, invitations):
        segment = SegmentFactory()
        block = PreferenceFormBlock()
        value = block.to_python(
            form_value(preferences=[products], categories=[invitations], segments=[segment])
        )

        references = {(model.__name__, pk) for model, pk, _, _ in block.extract_references(value)}

        assert references == {
            ("Preference", str(products.pk)),
            ("Category", str(invitations.pk)),
            ("Segment", str(segment.pk)),
        }


class TestBlockPicker:
    @pytest.mark.parametrize(
        "block",
        [
            PreferenceFormBlock(),
            BodyBlock().child_blocks["dynamic"],
            BodyBlock().child_blocks["variants"],
        ],
        ids=["form", "dynamic", "variants"],
    )
    def test_each_block_has_a_description_and_a_preview(self, admin_client, block):
        response = admin_client.get(
            reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix}
        )

        assert block.meta.description
        assert block.is_previewable
        assert response.status_code == 200

    def test_the_form_preview_shows_the_form_with_public_preferences(
        self, admin_client, products, invitations
    ):
        PreferenceFactory(internal=True, name="Lead score")
        block = PreferenceFormBlock()

        html = admin_client.get(
            reverse("wagtailadmin_block_preview"), {"id": block.definition_prefix}
        ).content.decode()

        assert '<form class="wp-form"' in html
        assert "Products" in html
        assert "Event invitations" in html
        assert "Lead score" not in html

    def test_the_dynamic_previews_describe_what_visitors_see(self, admin_client):
        dynamic = DynamicContentBlock(BodyBlock())
        variants = FirstMatchBlock(BodyBlock())

        first = admin_client.get(
            reverse("wagtailadmin_block_preview"), {"id": dynamic.definition_prefix}
        ).content.decode()
        second = admin_client.get(
            reverse("wagtailadmin_block_preview"), {"id": variants.definition_prefix}
        ).content.decode()

        assert "Everyone else sees the fallback" in first
        assert "Each visitor sees only the first version meant for them." in second

    def test_a_collapsed_form_reads_its_heading(self):
        _name, _children, meta = StructBlockAdapter().js_args(PreferenceFormBlock())

        assert meta["labelFormat"] == "{heading}"


class TestSearchAndApi:
    def test_site_search_indexes_the_heading_and_introduction_only(self, products, invitations):
        block = PreferenceFormBlock()
        value = block.to_python(
            form_value(
                heading="Join our list",
                intro="Hear from us.",
                preferences=[products],
                categories=[invitations],
                consent_text="We keep your consent.",
                button_label="Count me in",
                success_message="Welcome aboard.",
            )
        )

        assert block.get_searchable_content(value) == ["Join our list", "Hear from us."]

    def test_the_api_does_not_give_the_segments(self, products):
        segment = SegmentFactory(name="Hot leads")
        page = form_page(form_value(preferences=[products], segments=[segment]))
        field = FormPage._meta.get_field("body")

        (represented,) = field.stream_block.get_api_representation(page.body)

        assert represented["value"]["preferences"] == [str(products.pk)]
        assert "segments" not in represented["value"]
        assert "Hot leads" not in json.dumps(represented)
