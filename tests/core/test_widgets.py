"""PlainSelect writes the markup Django's Select writes (the same page, without a template
rendering per option); LabelledModelChoiceField lists from its label columns only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aquifer.core.widgets import LabelledModelChoiceField, PlainSelect


def _norm(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


CHOICES = [
    ("", "---------"),
    ("a", 'A & "B" <c>'),
    ("Group", [("g1", "One"), ("g2", "Two")]),
    ("z", "最后"),
]


@pytest.mark.parametrize("value", [None, "a", "g2", "<x>"])
def test_plain_select_writes_what_select_writes(value: Any) -> None:
    attrs = {"id": "id_f", "required": True, "data-x": 'q"uote', "disabled": False}
    want = forms.Select(choices=CHOICES).render("f", value, attrs=attrs)
    got = PlainSelect(choices=CHOICES).render("f", value, attrs=attrs)
    assert _norm(got) == _norm(want)
    assert "&lt;c&gt;" in got and "<c>" not in got


@pytest.mark.django_db
def test_labelled_field_lists_from_label_columns(world: Any) -> None:
    from aquifer.registry.models import Well

    class F(forms.Form):
        well = LabelledModelChoiceField(queryset=Well.objects.all(), label_fields=("code", "name"))

    class G(forms.Form):
        well = forms.ModelChoiceField(queryset=Well.objects.all())

    with CaptureQueriesContext(connection) as ctx:
        html = str(F()["well"])
    assert _norm(html) == _norm(str(G()["well"]))
    listed = ctx.captured_queries[-1]["sql"]
    assert '"registry_well"."code"' in listed and '"registry_well"."depth_m"' not in listed
    assert "W-A-1" in html and "W-B-1" in html
    bound = F({"well": str(world.well_a.pk)})
    assert bound.is_valid()
    with CaptureQueriesContext(connection) as ctx:  # the chosen well is loaded whole
        assert bound.cleaned_data["well"].depth_m == world.well_a.depth_m
    assert not ctx.captured_queries


def test_plain_select_multiple_is_djangos_markup() -> None:
    from django import forms

    from aquifer.core.widgets import PlainSelectMultiple

    choices = [("1", "W-1 <东>"), ("2", "W-2")]
    plain = PlainSelectMultiple(choices=choices).render("wells", ["2"], {"id": "id_wells"})
    django = forms.SelectMultiple(choices=choices).render("wells", ["2"], {"id": "id_wells"})
    assert " ".join(plain.split()) == " ".join(django.split())
    assert "multiple" in plain and 'value="2" selected' in plain and "&lt;东&gt;" in plain


def test_registry_forms_write_their_record_choices_plainly(world: Any) -> None:
    """A device's well (one of the county's thousands) is offered by PlainSelect: the edit
    page shows the device's well chosen, and a bad choice is refused naming the field."""
    from aquifer.core.widgets import PlainSelect
    from aquifer.registry.forms import DeviceForm

    form = DeviceForm(instance=world.device_a, user=world.accounts["bureau"])
    assert isinstance(form.fields["well"].widget, PlainSelect)
    html = world.client("bureau").get(f"/devices/{world.device_a.pk}/edit/").content.decode()
    assert f'<option value="{world.well_a.pk}" selected>' in html
    bad = DeviceForm(
        {"kind": world.device_a.kind, "protocol": world.device_a.protocol, "well": "999999"},
        instance=world.device_a,
        user=world.accounts["bureau"],
    )
    assert not bad.is_valid() and "well" in bad.errors
