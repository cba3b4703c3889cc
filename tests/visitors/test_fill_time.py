"""The minimum fill time of visitor forms: asked only when it is the only problem."""

import time

import pytest
from django import forms
from django.core import signing

from tests.visitor_helpers import started_long_ago
from wagtail_preferences.visitors.forms import STARTED_SALT, LinkRequestForm, StrangerProofForm

TOO_QUICK = "That was quick!"


class NameForm(StrangerProofForm):
    name = forms.CharField()


def just_now() -> str:
    return signing.dumps(time.time(), salt=STARTED_SALT)


def messages(form) -> list[str]:
    return [str(m) for errors in form.errors.values() for m in errors]


def test_a_form_sent_too_fast_is_asked_again():
    form = NameForm({"name": "Ann", "started": just_now()})

    assert not form.is_valid()
    assert [m[: len(TOO_QUICK)] for m in messages(form)] == [TOO_QUICK]


def test_a_form_with_other_errors_is_told_only_those():
    form = NameForm({"name": "", "started": just_now()})

    assert not form.is_valid()
    assert messages(form) == ["This field is required."]


def test_the_fill_time_is_asked_again_once_the_errors_are_fixed_too_soon():
    started = just_now()
    NameForm({"name": "", "started": started}).is_valid()

    form = NameForm({"name": "Ann", "started": started})

    assert not form.is_valid()
    assert form.non_field_errors()[0].startswith(TOO_QUICK)


def test_a_form_sent_after_the_minimum_time_passes():
    assert NameForm({"name": "Ann", "started": started_long_ago()}).is_valid()


@pytest.mark.parametrize("started", ["", "forged"])
def test_a_changed_fill_time_is_refused_even_with_other_errors(started):
    form = NameForm({"name": "", "started": started})

    assert not form.is_valid()
    assert any("open too long or was changed" in m for m in messages(form))


def test_the_link_form_autofilled_and_sent_at_once_is_valid():
    form = LinkRequestForm({"email": "ann@example.com", "started": just_now()})

    assert form.is_valid()
    assert not form.is_spam


def test_the_link_form_still_needs_a_signed_start():
    assert not LinkRequestForm({"email": "ann@example.com", "started": "forged"}).is_valid()
