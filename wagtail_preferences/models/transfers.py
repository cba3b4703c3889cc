import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..exceptions import IllegalTransition, InvalidFile
from .storage import import_storage as private_storage


class LegalBasis(models.TextChoices):
    """The lawful bases for processing of GDPR article 6(1)."""

    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    VITAL_INTERESTS = "vital_interests", _("Vital interests")
    PUBLIC_TASK = "public_task", _("Public task")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("Legitimate interests")


class ExportPath(models.TextChoices):
    ADMIN = "admin", _("Admin")
    COMMAND = "command", _("Command line")


class ImportMode(models.TextChoices):
    ADD = "add", _("Add to existing preferences")
    REPLACE = "replace", _("Replace existing preferences and manual segments")
    CREATE_ONLY = "create_only", _("Create new contacts only")
    UPDATE_ONLY = "update_only", _("Update existing contacts only")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


#: Statuses a run may be checked (again) from.
CHECKABLE = (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.FAILED)
NO_COUNTS = dict.fromkeys(
    (
        "processed_rows",
        "new_rows",
        "updated_rows",
        "unchanged_rows",
        "skipped_rows",
        "failed_rows",
    ),
    0,
)


def import_storage():
    """The storage of import files (a callable, so that migrations name it by path)."""
    return private_storage


def import_file_path(run, filename: str) -> str:
    # A random folder: the file holds personal data and its name must not be guessable.
    return f"wagtail_preferences/transfers/imports/{secrets.token_urlsafe(24)}/{filename}"


class ImportRun(models.Model):
    """One file of contacts, from upload through check to import, with what it changed."""

    file = models.FileField(_("file"), upload_to=import_file_path, storage=import_storage)
    file_name = models.CharField(_("file name"), max_length=255)
    file_size = models.BigIntegerField(_("size"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_label = models.CharField(_("run by"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    mode = models.CharField(
        _("mode"), max_length=16, choices=ImportMode.choices, default=ImportMode.ADD
    )
    skip_invalid = models.BooleanField(
        _("import the valid rows, skip the rest"),
        default=False,
        help_text=_("Off: nothing is imported while any row has an error."),
    )
    create_missing_preferences = models.BooleanField(
        _("create missing preferences"),
        default=False,
        help_text=_("Off: a preference name that does not exist is an error on its row."),
    )
    legal_basis = models.CharField(
        _("legal basis"), max_length=24, choices=LegalBasis.choices, blank=True
    )
    permission_confirmed = models.BooleanField(
        _("the site may contact these people"), default=False
    )
    columns = models.JSONField(
        _("columns"),
        default=list,
        blank=True,
        help_text=_("The file's header, in order, as read at upload."),
    )
    mapping = models.JSONField(
        _("column mapping"),
        default=dict,
        blank=True,
        help_text=_("Each header to a contact field, a custom data key (data:key) or nothing."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    message = models.TextField(_("message"), blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    new_rows = models.PositiveIntegerField(_("new"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped_rows = models.PositiveIntegerField(
        _("skipped"), default=0, help_text=_("Rows the mode leaves out, and empty rows.")
    )
    failed_rows = models.PositiveIntegerField(_("failed"), default=0)
    created_preferences = models.JSONField(_("preferences created"), default=list, blank=True)
    checked_at = models.DateTimeField(_("checked"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-created_at", "-pk"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def reference(self) -> str:
        """How consent events name this run (at most 255 characters, as they store it)."""
        run = f"import run #{self.pk}"
        return f"{run} ({self.file_name[: 255 - len(run) - 3]})"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING)

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    # Status changes ------------------------------------------------------------------------
    # The only writers of ``status``. Each moves the run only from the statuses it allows,
    # with a conditional UPDATE: of two requests racing, one wins and the other finds the
    # run moved on.

    def request_check(self, mapping: dict) -> bool:
        """Check the file again with ``mapping``; False if the run is running or done."""
        return self._move(
            ImportStatus.CHECKING,
            CHECKABLE,
            mapping=mapping,
            total_rows=None,
        )

    def start_check(self) -> None:
        """The check begins (requested, or straight away at the command line)."""
        self._change(
            ImportStatus.CHECKING,
            (*CHECKABLE, ImportStatus.CHECKING),
            message="",
            **NO_COUNTS,
        )

    def checked(self) -> None:
        """The check read every row."""
        now = timezone.now()
        self._change(
            ImportStatus.CHECKED, (ImportStatus.CHECKING,), checked_at=now, finished_at=now
        )

    def confirm(self, legal_basis: str) -> bool:
        """Someone confirmed a checked run; False if it was not checked (a second confirmation)."""
        return self._move(
            ImportStatus.IMPORTING,
            (ImportStatus.CHECKED,),
            legal_basis=legal_basis,
            permission_confirmed=True,
        )

    def start_import(self) -> None:
        """The import begins (confirmed, or straight away at the command line)."""
        self._change(
            ImportStatus.IMPORTING,
            (ImportStatus.UPLOADED, ImportStatus.CHECKED, ImportStatus.IMPORTING),
            message="",
            started_at=timezone.now(),
            **NO_COUNTS,
        )

    def progress(self, **fields) -> None:
        """Record the counts (and other figures) of a run at work; never its status."""
        if "status" in fields:
            raise IllegalTransition("Progress does not change a run's status.")
        for name, value in fields.items():
            setattr(self, name, value)
        ImportRun.objects.filter(pk=self.pk).update(**fields)

    def finish(self) -> None:
        """The import applied every row it could."""
        self._change(ImportStatus.DONE, (ImportStatus.IMPORTING,), finished_at=timezone.now())

    def fail(self, message: str) -> None:
        """The running check or import stopped: ``message`` says why."""
        self._change(
            ImportStatus.FAILED,
            (ImportStatus.CHECKING, ImportStatus.IMPORTING),
            message=message,
            finished_at=timezone.now(),
        )

    def _change(self, status: str, allowed: tuple, **fields) -> None:
        if not self._move(status, allowed, **fields):
            current = ImportRun.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            raise IllegalTransition(
                f"Import run #{self.pk} is {current or 'gone'}: it cannot become {status}."
            )

    def _move(self, status: str, allowed: tuple, **fields) -> bool:
        fields["status"] = status
        if not ImportRun.objects.filter(pk=self.pk, status__in=allowed).update(**fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True

    def open_file(self):
        """The run's file, open for reading; ``InvalidFile`` once it is no longer kept."""
        gone = InvalidFile(
            _(
                "The file of this run is no longer kept (it is deleted when its run ends): "
                "upload it again."
            )
        )
        if not self.file:
            raise gone
        try:
            return self.file.open("rb")
        except FileNotFoundError:
            raise gone from None


class ImportRowError(models.Model):
    """What is wrong with one row of an import file."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"), help_text=_("Line in the file; 1 is the header."))
    column = models.CharField(_("column"), max_length=255, blank=True)
    message = models.TextField(_("error"))

    class Meta:
        verbose_name = _("import error")
        default_permissions = ()
        ordering = ["row", "pk"]
        indexes = [models.Index(fields=["run", "row"])]

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


class ContactExport(models.Model):
    """Who exported which contacts, when, in which format."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("exported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by_label = models.CharField(_("exported by"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    description = models.CharField(
        _("what"), max_length=500, help_text=_("Which contacts: all, a preference, a segment…")
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    file_format = models.CharField(_("format"), max_length=8)
    path = models.CharField(
        _("from"), max_length=16, choices=ExportPath.choices, default=ExportPath.ADMIN
    )

    class Meta:
        verbose_name = _("contact export")
        verbose_name_plural = _("contact exports")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.description} ({self.file_format})"
