"""choice_label: a choice's label as get_FOO_display() gives it, in either language."""

from __future__ import annotations

from django.utils import translation

from aquifer.core.texts import choice_label
from aquifer.registry.choices import DeviceKind
from aquifer.registry.models import Device


def test_choice_label_says_what_get_display_says_in_both_languages() -> None:
    device = Device(kind=DeviceKind.FLOW_METER, station_address="0012345678")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert choice_label(DeviceKind, device.kind) == device.get_kind_display()
            assert str(device) == f"{device.get_kind_display()} 0012345678"
    with translation.override("en"):
        assert "meter" in choice_label(DeviceKind, "flow_meter").lower()
    # a value that is none of the choices (a row older than its choices) shows as stored
    old = Device(kind="retired_kind")
    assert choice_label(DeviceKind, old.kind) == old.get_kind_display() == "retired_kind"
