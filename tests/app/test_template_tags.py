"""``{% load wagtail_preferences %}``: the visitor in any template, and what it does to caching."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from tests.factories import CategoryChoiceFactory, ContactFactory, SegmentFactory, UserFactory
from wagtail_preferences.audience.profiles import Profile
from wagtail_preferences.identity import caching, resolvers, tokens
from wagtail_preferences.models import SegmentMember

pytestmark = pytest.mark.django_db


def make_request(contact=None, *, user=None):
    request = RequestFactory().get("/")
    request.user = user or AnonymousUser()
    if contact is not None:
        request.COOKIES["wagtail_preferences"] = tokens.contact_token(contact, purpose="cookie")
    return request


def render(source: str, request, **context) -> str:
    template = Template("{% load wagtail_preferences %}" + source)
    return template.render(RequestContext(request, context)).strip()


def headers_after(request):
    response = caching.protect(request, HttpResponse())
    return response.get("Cache-Control", ""), response.get("Vary", "")


@pytest.fixture
def segment(db):
    return SegmentFactory(name="Customers")


@pytest.fixture
def holder(products, promotions, segment):
    contact = ContactFactory(confirmed=True, first_name="Ada", preferences=[products])
    SegmentMember.objects.create(segment=segment, contact=contact)
    return contact


class TestCurrentContact:
    def test_a_recognised_visitor(self, holder):
        request = make_request(holder)

        assert render("{% current_contact as c %}{{ c.first_name }}", request) == "Ada"
        assert headers_after(request) == ("private", "Cookie")

    def test_an_unknown_visitor(self):
        request = make_request()

        html = render(
            "{% current_contact as c %}{% if c %}known{% else %}unknown{% endif %}", request
        )

        assert html == "unknown"
        assert headers_after(request) == ("", "Cookie")

    def test_a_signed_in_user_linked_to_a_contact(self):
        user = UserFactory()
        ContactFactory(user=user, first_name="Grace")

        assert render("{% current_contact as c %}{{ c.first_name }}", make_request(user=user)) == (
            "Grace"
        )

    def test_without_a_request_in_the_context(self, holder):
        html = Template(
            "{% load wagtail_preferences %}{% current_contact as c %}{{ c|default:'none' }}"
        ).render(Context({}))

        assert html == "none"


FILTERS = {
    "holds_preference": "products",
    "receives_category": "promotions",
    "in_segment": "segment",
}


class TestFilters:
    @pytest.fixture
    def named(self, products, promotions, segment):
        return {"products": products, "promotions": promotions, "segment": segment}

    @pytest.mark.parametrize("name", FILTERS)
    @pytest.mark.parametrize("by", ["slug", "pk", "pk_text", "instance"])
    def test_a_recognised_visitor_by_slug_pk_or_instance(self, named, holder, name, by):
        interest = named[FILTERS[name]]
        asked = {
            "slug": interest.slug,
            "pk": interest.pk,
            "pk_text": str(interest.pk),
            "instance": interest,
        }[by]
        request = make_request(holder)

        html = render(
            f"{{% if request|{name}:asked %}}yes{{% else %}}no{{% endif %}}", request, asked=asked
        )

        assert html == "yes"
        assert headers_after(request) == ("private", "Cookie")

    @pytest.mark.parametrize("name", FILTERS)
    def test_a_literal_slug_in_the_template(self, holder, named, name):
        slug = named[FILTERS[name]].slug
        source = f'{{% if request|{name}:"{slug}" %}}yes{{% else %}}no{{% endif %}}'

        assert render(source, make_request(holder)) == "yes"
        assert render(source, make_request(ContactFactory(unsubscribed=True))) == "no"

    @pytest.mark.parametrize("name", FILTERS)
    def test_an_unknown_visitor_holds_nothing(self, named, name):
        request = make_request()

        html = render(
            f"{{% if request|{name}:asked %}}yes{{% else %}}no{{% endif %}}",
            request,
            asked=named[FILTERS[name]],
        )

        assert html == "no"
        assert headers_after(request) == ("", "Cookie")

    @pytest.mark.parametrize("name", FILTERS)
    @pytest.mark.parametrize("asked", ["no-such-slug", "999999", ""])
    def test_an_unknown_name_is_false(self, holder, name, asked):
        html = render(
            f'{{% if request|{name}:"{asked}" %}}yes{{% else %}}no{{% endif %}}',
            make_request(holder),
        )

        assert html == "no"

    def test_what_the_visitor_does_not_hold(self, holder, events, promotions):
        CategoryChoiceFactory(contact=holder, category=promotions, subscribed=False)
        source = (
            '{% if request|holds_preference:"events" %}events{% endif %}'
            '{% if request|receives_category:"promotions" %}promotions{% endif %}'
            "."
        )

        assert render(source, make_request(holder)) == "."

    def test_without_request_in_the_context_is_false(self, holder):
        html = Template(
            '{% load wagtail_preferences %}{% if request|holds_preference:"products" %}yes'
            "{% else %}no{% endif %}"
        ).render(Context({}))

        assert html == "no"

    def test_many_filters_read_the_contact_and_profile_in_one_query(
        self, holder, django_assert_num_queries
    ):
        request = make_request(holder)
        source = (
            '{% if request|holds_preference:"products" %}[a{% endif %}'
            '{% if request|holds_preference:"events" %}b{% endif %}'
            '{% if request|receives_category:"promotions" %}c{% endif %}'
            '{% if request|in_segment:"customers" %}d]{% endif %}'
            "{% current_contact as c %}{% forget_me %}"
        ) * 10

        with django_assert_num_queries(1):
            html = render(source, request)

        # Brackets: the forms' random CSRF tokens may hold "acd" too.
        assert html.count("[acd]") == 10
        assert html.count('action="/preferences/forget/"') == 10

    def test_a_preview_profile_answers_and_is_no_contact(self, products, events):
        request = make_request(ContactFactory(preferences=[products]))
        setattr(request, resolvers.PREVIEW_ATTRIBUTE, Profile(preferences={events.pk: events.slug}))
        source = (
            '{% if request|holds_preference:"events" %}events{% endif %}'
            '{% if request|holds_preference:"products" %}products{% endif %}'
            "{% current_contact as c %}{% if c %}contact{% endif %}"
        )

        assert render(source, request) == "events"


class TestForgetMe:
    def test_shown_to_a_recognised_visitor(self, holder):
        request = make_request(holder)

        html = render("{% forget_me %}", request)

        assert 'action="/preferences/forget/"' in html
        assert 'method="post"' in html
        assert holder.email in html
        assert "Forget me on this browser" in html
        assert 'name="csrfmiddlewaretoken"' in html
        assert headers_after(request) == ("private", "Cookie")

    def test_with_a_label_of_its_own(self, holder):
        assert "That is not me" in render('{% forget_me "That is not me" %}', make_request(holder))

    def test_not_shown_to_an_unknown_visitor(self):
        request = make_request()

        assert render("{% forget_me %}", request) == ""
        assert headers_after(request) == ("", "Cookie")

    def test_not_shown_to_a_visitor_with_a_forged_cookie(self):
        request = make_request()
        request.COOKIES["wagtail_preferences"] = "forged"

        assert render("{% forget_me %}", request) == ""

    def test_not_shown_in_a_preview(self, holder):
        request = make_request(holder)
        setattr(request, resolvers.PREVIEW_ATTRIBUTE, Profile())

        assert render("{% forget_me %}", request) == ""


class TestMarking:
    def test_a_template_without_the_tags_marks_nothing(self, holder):
        request = make_request(holder)

        render("{{ request.path }}", request)

        assert headers_after(request) == ("", "")

    def test_a_recognised_part_makes_the_whole_response_private(self):
        request = make_request()

        caching.mark_personalised(request, private=False)
        caching.mark_personalised(request, private=True)
        caching.mark_personalised(request, private=False)

        assert headers_after(request) == ("private", "Cookie")

    def test_unknown_parts_only_vary(self):
        request = make_request()

        caching.mark_personalised(request, private=False)
        caching.mark_personalised(request, private=False)

        assert headers_after(request) == ("", "Cookie")

    def test_a_preview_with_tags_for_no_contact_and_a_profile_is_private(self, products):
        request = make_request()
        setattr(request, resolvers.PREVIEW_ATTRIBUTE, Profile(preferences={products.pk: "x"}))

        render('{% forget_me %}{% if request|holds_preference:"products" %}{% endif %}', request)

        assert headers_after(request)[0] == "private"

    def test_protect_keeps_what_the_response_had(self, holder):
        request = make_request(holder)
        render('{{ request|holds_preference:"products" }}', request)
        response = HttpResponse()
        response["Cache-Control"] = "max-age=60"
        response["Vary"] = "Accept-Language"

        caching.protect(request, response)

        assert "private" in response["Cache-Control"]
        assert "max-age=60" in response["Cache-Control"]
        assert set(map(str.strip, response["Vary"].split(","))) == {"Accept-Language", "Cookie"}
