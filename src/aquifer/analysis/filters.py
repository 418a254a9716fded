"""What the quality sample list can be filtered by: one FilterSet, for the page and the API.

:class:`QualitySampleFilterSet` filters the sample list page (its form is the page's filter bar),
its export, and the API's sample list (``/api/analysis/samples?klass=3``), whose documented
query parameters are its filters.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aquifer.analysis.models import QualitySample
from aquifer.analysis.quality import CLASS_LABELS
from aquifer.core.filters import ChoiceFilter, FilterSet, RecordFilter
from aquifer.registry.models import Well

__all__ = ["QualitySampleFilterSet"]


class QualitySampleFilterSet(FilterSet):
    klass = ChoiceFilter(
        label=_("水质类别"),
        choices=[(str(k), label) for k, label in CLASS_LABELS.items()],
        widget=forms.Select(attrs={"data-autosubmit": ""}),
    )
    well_id = RecordFilter(Well, field_name="well", label=_("井"), hidden=True)

    class Meta:
        model = QualitySample
        fields: list[str] = []
