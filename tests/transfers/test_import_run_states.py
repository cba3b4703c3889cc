"""An import run's status changes only through its own methods, each from the statuses it allows."""

import pytest

from tests.import_helpers import csv_text, make_run
from tests.threads import at_once
from wagtail_preferences.exceptions import IllegalTransition
from wagtail_preferences.models import ImportRun, ImportStatus, LegalBasis

UPLOADED, CHECKING, CHECKED, IMPORTING, DONE, FAILED = (
    ImportStatus.UPLOADED,
    ImportStatus.CHECKING,
    ImportStatus.CHECKED,
    ImportStatus.IMPORTING,
    ImportStatus.DONE,
    ImportStatus.FAILED,
)
#: method, its arguments, the statuses it moves a run from, the status it moves it to.
CHANGES = {
    "start_check": ((), (UPLOADED, CHECKED, FAILED, CHECKING), CHECKING),
    "checked": ((), (CHECKING,), CHECKED),
    "start_import": ((), (UPLOADED, CHECKED, IMPORTING), IMPORTING),
    "finish": ((), (IMPORTING,), DONE),
    "fail": (("The file went away.",), (CHECKING, IMPORTING), FAILED),
}
#: Requests from the admin: they answer whether they moved the run instead of raising.
REQUESTS = {
    "request_check": (({"Email": "email"},), (UPLOADED, CHECKED, FAILED), CHECKING),
    "confirm": ((LegalBasis.CONTRACT,), (CHECKED,), IMPORTING),
}


def a_run(status, **fields) -> ImportRun:
    return make_run(csv_text("Email", "ann@example.com"), status=status, **fields)


def stored(run) -> str:
    return ImportRun.objects.values_list("status", flat=True).get(pk=run.pk)


def cases(changes, legal: bool):
    return [
        pytest.param(method, status, id=f"{method}-from-{status}")
        for method, (_, allowed, _) in changes.items()
        for status in ImportStatus.values
        if (status in allowed) == legal
    ]


@pytest.mark.django_db
class TestStatusChanges:
    @pytest.mark.parametrize("method, status", cases(CHANGES, legal=True))
    def test_a_legal_change_moves_the_run_in_memory_and_in_the_database(self, method, status):
        args, _, target = CHANGES[method]
        run = a_run(status)
        getattr(run, method)(*args)
        assert run.status == target
        assert stored(run) == target

    @pytest.mark.parametrize("method, status", cases(CHANGES, legal=False))
    def test_an_illegal_change_is_refused_and_leaves_the_run_as_it_was(self, method, status):
        args, _, target = CHANGES[method]
        run = a_run(status)
        with pytest.raises(IllegalTransition, match=f"is {status}: it cannot become {target}"):
            getattr(run, method)(*args)
        assert run.status == status
        assert stored(run) == status

    @pytest.mark.parametrize("method, status", cases(REQUESTS, legal=True))
    def test_a_request_a_run_allows_moves_it_and_says_so(self, method, status):
        args, _, target = REQUESTS[method]
        run = a_run(status)
        assert getattr(run, method)(*args) is True
        assert (run.status, stored(run)) == (target, target)

    @pytest.mark.parametrize("method, status", cases(REQUESTS, legal=False))
    def test_a_request_a_run_does_not_allow_changes_nothing(self, method, status):
        args, _, _ = REQUESTS[method]
        run = a_run(status)
        assert getattr(run, method)(*args) is False
        assert (run.status, stored(run)) == (status, status)

    def test_a_check_starts_afresh(self):
        run = a_run(FAILED, message="Broken.", processed_rows=5, failed_rows=2)
        run.start_check()
        run.refresh_from_db()
        assert (run.message, run.processed_rows, run.failed_rows) == ("", 0, 0)

    def test_a_checked_run_records_when(self):
        run = a_run(CHECKING)
        run.checked()
        run.refresh_from_db()
        assert run.checked_at is not None
        assert run.finished_at == run.checked_at

    def test_an_import_starts_afresh_and_records_when(self):
        run = a_run(CHECKED, processed_rows=3, new_rows=3)
        run.start_import()
        run.refresh_from_db()
        assert (run.processed_rows, run.new_rows, run.message) == (0, 0, "")
        assert run.started_at is not None

    def test_a_failed_run_says_why_and_when(self):
        run = a_run(IMPORTING)
        run.fail("The file went away.")
        run.refresh_from_db()
        assert run.message == "The file went away."
        assert run.finished_at is not None

    def test_a_requested_check_takes_the_new_mapping_and_forgets_the_row_count(self):
        run = a_run(CHECKED, total_rows=1)
        run.request_check({"Email": "email"})
        run.refresh_from_db()
        assert run.mapping == {"Email": "email"}
        assert run.total_rows is None

    def test_a_confirmation_records_the_legal_basis_and_permission(self):
        run = a_run(CHECKED, legal_basis="", permission_confirmed=False)
        run.confirm(LegalBasis.CONTRACT)
        run.refresh_from_db()
        assert (run.legal_basis, run.permission_confirmed) == (LegalBasis.CONTRACT, True)

    def test_a_second_confirmation_starts_nothing(self):
        run = a_run(CHECKED)
        assert ImportRun.objects.get(pk=run.pk).confirm(LegalBasis.CONSENT) is True
        assert run.confirm(LegalBasis.CONTRACT) is False
        run.refresh_from_db()
        assert (run.status, run.legal_basis) == (IMPORTING, LegalBasis.CONSENT)

    def test_progress_records_figures_but_never_the_status(self):
        run = a_run(IMPORTING)
        run.progress(processed_rows=7, total_rows=9)
        run.refresh_from_db()
        assert (run.processed_rows, run.total_rows, run.status) == (7, 9, IMPORTING)
        with pytest.raises(IllegalTransition):
            run.progress(status=DONE)
        assert stored(run) == IMPORTING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_confirmations_at_once_start_one_import(round_):
    run = a_run(CHECKED)

    def ready():
        mine = ImportRun.objects.get(pk=run.pk)
        return lambda: mine.confirm(LegalBasis.CONSENT)

    assert sorted(at_once(ready, 2)) == [False, True]
    assert stored(run) == IMPORTING
