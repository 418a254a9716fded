"""Create and edit forms of the registry pages.

Their validation is the model's own ``full_clean()``, all of it (:class:`RegistryModelForm`),
so the pages refuse exactly what the API, the admin and the Excel import refuse, with the same
messages. A well's township and zone are never form fields: they are derived from its location.
The filters of the list pages are FilterSets (``registry/filters.py``), shared with the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _

from aquifer.core.geometry import ACCEPTED_CRS, GeometryError
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.core.widgets import PlainSelect
from aquifer.registry.models import Device, MonitoringWell, WaterUser, Well, Zone
from aquifer.registry.models import wells as wells_models

__all__ = [
    "DeviceForm",
    "MonitoringWellForm",
    "RegistryModelForm",
    "WaterUserForm",
    "WellForm",
    "ZoneForm",
    "crs_label",
]

#: How each accepted coordinate system is named on the pages (``registry.models.wells``).
CRS_LABELS = wells_models.CRS_LABELS


def crs_label(epsg: int | None) -> str:
    if epsg is None:
        return ""
    return f"EPSG:{epsg} {CRS_LABELS.get(epsg, ACCEPTED_CRS.get(epsg, ''))}".strip()


def crs_choices() -> list[tuple[int, str]]:
    return [(code, crs_label(code)) for code in ACCEPTED_CRS]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _options(field: forms.ModelChoiceField) -> QuerySet[Any]:  # type: ignore[type-arg]
    assert field.queryset is not None
    return field.queryset


# --- Create and edit forms ----------------------------------------------------------------------


class RegistryModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """A ModelForm validated by the model's whole ``full_clean()``.

    Django's ModelForm validates only the model fields that are on the form. Aquifer's models
    derive fields (a well's township and zone), normalise codes and check across fields, so the
    whole record is validated and each error is put next to the form field it concerns:
    ``error_fields`` maps a model field entered through another form field (a well's ``lon`` is
    entered as ``x``); errors on fields that are not on the form appear above the form.

    ``user`` limits every choice of a related record to the records the user can see.
    """

    error_fields: dict[str, str] = {}

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and type(field.widget) is forms.Select:
                # A well or a device among the county's thousands: options written plainly
                # (the field's choices handed over; a queryset set below renews them).
                field.widget = PlainSelect(attrs=field.widget.attrs)
                field.widget.choices = field.choices
            if isinstance(field, forms.ModelChoiceField) and user is not None:
                field.queryset = visible_to(user, Action.VIEW, _options(field))

    def limit(self, name: str, narrow: Callable[[QuerySet[Any]], QuerySet[Any]]) -> None:
        """Narrow the records offered by the choice field ``name``."""
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = narrow(_options(field))

    def prepare_instance(self) -> None:
        """Set what the form enters indirectly (a location, a secret) on ``self.instance``."""

    def _post_clean(self) -> None:
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]
        self.prepare_instance()
        try:
            self.instance.full_clean()
        except ValidationError as exc:
            self.add_model_errors(exc)

    def add_model_errors(self, exc: ValidationError) -> None:
        """Put each of the model's errors next to the form field it concerns."""
        items: list[tuple[str, list[str]]]
        if hasattr(exc, "error_dict"):
            items = list(exc.message_dict.items())
        else:
            items = [(NON_FIELD_ERRORS, exc.messages)]
        for name, messages in items:
            target = self.error_fields.get(name, name)
            if target == NON_FIELD_ERRORS:
                self.add_error(None, messages)
            elif target in self.fields:
                if target not in self.errors:  # the form field's own error says it already
                    self.add_error(target, messages)
            else:
                label = self._label(name)
                self.add_error(None, [f"{label}: {m}" for m in messages])

    def _label(self, name: str) -> str:
        try:
            return str(self._meta.model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            return name


class WellForm(RegistryModelForm):
    """A well. Its location is entered as x, y in a chosen coordinate system; its township and
    zone are derived from the location and never entered."""

    x = forms.FloatField(
        label=_("X / 经度"), help_text=_("经纬度坐标系填经度；高斯-克吕格投影填东坐标（米）。")
    )
    y = forms.FloatField(
        label=_("Y / 纬度"), help_text=_("经纬度坐标系填纬度；高斯-克吕格投影填北坐标（米）。")
    )
    crs = forms.TypedChoiceField(label=_("坐标系"), coerce=int, choices=crs_choices, initial=4326)

    error_fields = {"lon": "x", "lat": "y", "input_x": "x", "input_y": "y", "input_crs": "crs"}

    class Meta:
        model = Well
        fields = [
            "code",
            "name",
            "x",
            "y",
            "crs",
            "depth_m",
            "layer",
            "purpose",
            "status",
            "owner",
            "drilled_on",
            "notes",
        ]
        widgets = {"drilled_on": DateInput(), "notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        well = self.instance
        if well.pk is not None:
            entered = well.input_x is not None and well.input_y is not None
            self.initial.setdefault("x", well.input_x if entered else well.lon)
            self.initial.setdefault("y", well.input_y if entered else well.lat)
            self.initial.setdefault("crs", well.input_crs if entered else 4326)

    def prepare_instance(self) -> None:
        x, y, crs = (self.cleaned_data.get(k) for k in ("x", "y", "crs"))
        if x is None or y is None or crs is None:
            return
        try:
            self.instance.set_location(x, y, crs)
        except GeometryError as exc:
            self.add_error("x", str(exc))


class WaterUserForm(RegistryModelForm):
    """A water user. Only townships the user may register users in are offered."""

    class Meta:
        model = WaterUser
        fields = ["name", "uscc", "use_type", "contact_person", "phone", "address", "township"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit("township", lambda qs: qs.filter(is_current=True))
        if self.user is not None:
            user, action = self.user, Action.CHANGE if self.instance.pk else Action.ADD

            def allowed(qs: QuerySet[Any]) -> QuerySet[Any]:
                ok = [t.pk for t in qs if can(user, action, WaterUser(township=t))]
                return qs.filter(pk__in=ok)

            self.limit("township", allowed)


class DeviceForm(RegistryModelForm):
    """A device. Its secret is write-only: stored as a salted hash, never shown again."""

    secret = forms.CharField(
        label=_("密钥"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("只写：保存为加盐散列，之后不再显示。留空则不修改。"),
    )

    error_fields = {"secret_hash": "secret"}

    class Meta:
        model = Device
        fields = [
            "kind",
            "protocol",
            "station_address",
            "secret",
            "well",
            "reporting_interval_min",
            "manufacturer",
            "model_name",
            "serial_number",
            "installed_on",
            "active",
        ]
        widgets = {"installed_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit("well", lambda qs: qs.order_by("code"))

    def prepare_instance(self) -> None:
        secret = self.cleaned_data.get("secret")
        if secret:
            try:
                self.instance.set_secret(secret)
            except ValidationError as exc:
                self.add_model_errors(exc)


class ZoneForm(RegistryModelForm):
    """A management zone; its polygon is entered as GeoJSON."""

    class Meta:
        model = Zone
        fields = [
            "code",
            "name",
            "kind",
            "layer",
            "geometry",
            "allowable_extraction_m3",
            "designation_document",
            "designated_on",
            "supervising_township",
            "notes",
        ]
        widgets = {
            "geometry": forms.Textarea(attrs={"rows": 8, "class": "mono"}),
            "designated_on": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "geometry": _("GeoJSON 格式的 Polygon 或 MultiPolygon，WGS84 经纬度。"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit("supervising_township", lambda qs: qs.filter(is_current=True))


class MonitoringWellForm(RegistryModelForm):
    """A monitoring well. The well it is on is chosen once, when it is created."""

    class Meta:
        model = MonitoringWell
        fields = [
            "well",
            "monitors_level",
            "monitors_quality",
            "network",
            "warning_depth_m",
            "established_on",
        ]
        widgets = {"established_on": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["well"]
        else:
            self.limit("well", lambda qs: qs.filter(monitoring__isnull=True).order_by("code"))
