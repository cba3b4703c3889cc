from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms.utils import flatatt
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from ..exceptions import InvalidFile
from ..models import ImportRun, LegalBasis
from ..transfers.columns import registered
from ..transfers.imports.columns import DATA_PREFIX, IGNORE, default_mapping, mapping_problems
from ..transfers.spreadsheets import read_header


class ImportUploadForm(forms.ModelForm):
    class Meta:
        model = ImportRun
        fields = ["file", "mode", "skip_invalid", "create_missing_preferences"]
        widgets = {"mode": forms.RadioSelect}
        help_texts = {
            "file": _(
                "CSV (comma or semicolon separated; UTF-8 or Windows-1252) or XLSX. The first "
                "row names the columns; email is required."
            )
        }

    def clean_file(self):
        file: UploadedFile = self.cleaned_data["file"]
        limit = get_setting("IMPORT_MAX_UPLOAD_SIZE")
        if file.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; files up to %(limit)s can be uploaded.")
                % {"size": filesizeformat(file.size), "limit": filesizeformat(limit)}
            )
        try:
            self.header = read_header(file)
        except InvalidFile as error:
            raise forms.ValidationError(str(error)) from None
        return file

    def save(self, commit=True):
        run = super().save(commit=False)
        run.file_name = self.cleaned_data["file"].name[:255]
        run.file_size = self.cleaned_data["file"].size
        run.columns = self.header
        run.mapping = default_mapping(self.header)
        if commit:
            run.save()
        return run


def target_choices(header_name: str) -> list[tuple[str, str]]:
    key = slugify(header_name.removeprefix(DATA_PREFIX)).replace("-", "_") or "value"
    return [
        (IGNORE, _("Leave out")),
        *((column.name, column.label) for column in registered()),
        (DATA_PREFIX + key, _("Custom data “%(key)s”") % {"key": key}),
    ]


class ColumnSelect(forms.Select):
    """A select written directly, not through a template per option: a file may have a
    thousand columns, and the mapping page a select for each."""

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, mark_safe(" selected") if choice == value else "", label)  # noqa: S308
                for choice, label in self.choices
            ),
        )
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, options)


class ImportMappingForm(forms.Form):
    """One choice per column of the file: which field of a contact it fills."""

    def __init__(self, *args, run: ImportRun, samples: dict[str, list[str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.run = run
        for index, name in enumerate(run.columns):
            if not name:
                continue
            shown = ", ".join(value for value in samples.get(name, []) if value)[:120]
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=name,
                choices=target_choices(name),
                widget=ColumnSelect,
                initial=run.mapping.get(name, IGNORE),
                required=False,
                help_text=_("For example: %(values)s") % {"values": shown} if shown else "",
            )

    def clean(self):
        mapping = {
            name: self.cleaned_data.get(f"column_{index}", IGNORE)
            for index, name in enumerate(self.run.columns)
            if name
        }
        problems = mapping_problems(self.run.columns, mapping)
        if problems:
            raise forms.ValidationError(problems)
        self.mapping = mapping
        return self.cleaned_data


class ImportConfirmForm(forms.ModelForm):
    permission_confirmed = forms.BooleanField(
        required=True,
        label=_("I confirm that the site may contact these people"),
        help_text=_("The run and every contact's consent history record it, with your name."),
    )

    class Meta:
        model = ImportRun
        fields = ["legal_basis", "permission_confirmed"]
        widgets = {"legal_basis": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_basis"].required = True
        self.fields["legal_basis"].choices = LegalBasis.choices
        self.fields["legal_basis"].initial = LegalBasis.CONSENT
