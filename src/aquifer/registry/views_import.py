"""Excel import from the web UI: upload a workbook, see every fault or the count imported.

The same all-or-nothing import as ``aquifer import`` (:mod:`aquifer.registry.imports`), run as
the signed-in user: a township officer can only import records of their own township.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from aquifer.core.roles import Action
from aquifer.core.scoping import can
from aquifer.registry.imports import KINDS, ImportFileError, import_workbook, write_template
from aquifer.registry.models import Well

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel 文件 (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + XLSX}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("数据类型"),
        required=False,
        choices=[
            ("", gettext_lazy("按表头自动识别")),
            ("wells", gettext_lazy("取水井")),
            ("users", gettext_lazy("取用水户")),
        ],
    )
    dry_run = forms.BooleanField(label=gettext_lazy("只校验，不写入"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    """GET: the upload form (``?template=wells|users`` downloads a template); POST: import."""
    if not can(request.user, Action.ADD, Well):
        raise PermissionDenied(_("您的角色无权导入登记数据。"))
    template = request.GET.get("template")
    if request.method == "GET" and template in KINDS:
        response = HttpResponse(write_template(template), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{template}-template.xlsx"'
        return response

    result = None
    problem = ""
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_workbook(
                    form.cleaned_data["file"],
                    user=request.user,
                    kind=form.cleaned_data["kind"] or None,
                    dry_run=form.cleaned_data["dry_run"],
                )
            except (ImportFileError, PermissionDenied) as exc:
                problem = str(exc)
    else:
        form = ImportForm()
    return render(
        request,
        "registry/import.html",
        {
            "form": form,
            "result": result,
            "problem": problem,
            "kind_label": KINDS[result.kind].label if result else "",
            "templates": [(name, spec.label) for name, spec in KINDS.items()],
        },
    )
