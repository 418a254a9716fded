"""One data row read into a model instance: typed values, reference lookups (owner,
township) in the importing user's scope, and every fault collected in the file's words."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from aquifer.core.codes import USCCError, normalise_uscc
from aquifer.core.geometry import ACCEPTED_CRS, GeometryError
from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.registry.choices import AquiferLayer, UseType, WellPurpose, WellStatus
from aquifer.registry.imports.columns import _LOCATION, KindSpec, _zh_labels
from aquifer.registry.imports.reading import _blank
from aquifer.registry.imports.results import RowError
from aquifer.registry.models import Township, WaterUser, Well


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


class _Row:
    """One data row being read: typed values out, faults collected (never raised)."""

    def __init__(
        self, number: int, values: dict[str, Any], spec: KindSpec, headers: dict[str, str]
    ) -> None:
        self.line = number
        self.values = values
        self.spec = spec
        self.headers = headers
        self.errors: list[RowError] = []
        self.bad: set[str] = set()

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.spec.column(key).header

    def error(self, key: str, reason: str) -> None:
        self.errors.append(RowError(self.line, self.header(key) if key else "", str(reason)))
        if key:
            self.bad.add(key)

    def raw(self, key: str) -> Any:
        value = self.values.get(key)
        return None if _blank(value) else value

    def present(self, key: str) -> bool:
        return self.raw(key) is not None

    def check_required(self) -> None:
        for c in self.spec.columns:
            if c.required and not self.present(c.key):
                self.error(c.key, _("必填项为空。"))

    def text(self, key: str) -> str:
        return _text(self.raw(key))

    def number(self, key: str) -> float | None:
        value = self.raw(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if isinstance(value, int | float) else float(str(value).strip())
            if not math.isfinite(number):
                raise ValueError
        except ValueError:
            self.error(key, _("“%s”不是数字。") % _text(value))
            return None
        return number

    def decimal(self, key: str) -> Decimal | None:
        value = self.raw(key)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            self.error(key, _("“%s”不是数字。") % _text(value))
            return None
        return number

    def date(self, key: str) -> dt.date | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = _text(value)
        for fmt in _DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.error(key, _("“%s”不是日期，请按 2015-06-30 的格式填写。") % text)
        return None

    def choice(self, key: str, choices: type[models.TextChoices]) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        text = _text(value)
        accepted: dict[str, str] = {}
        for code, label in choices.choices:
            accepted[code.lower()] = code
            accepted[str(label)] = code
        for code, label in zip(choices.values, _zh_labels(choices), strict=True):
            accepted[label] = code
        found = accepted.get(text) or accepted.get(text.lower())
        if found is None:
            self.error(
                key,
                _("“%(value)s”不是可选值；可填：%(labels)s（或代码 %(codes)s）。")
                % {
                    "value": text,
                    "labels": "、".join(_zh_labels(choices)),
                    "codes": "、".join(choices.values),
                },
            )
        return found

    def epsg(self, key: str) -> int:
        value = self.raw(key)
        if value is None:
            return 4326
        text = re.sub(r"^EPSG[:：]?", "", _text(value), flags=re.IGNORECASE).strip()
        try:
            code = int(float(text))
        except ValueError:
            code = None
        if code not in ACCEPTED_CRS:
            self.error(
                key,
                _("不支持的坐标系“%(value)s”；可填：%(codes)s。")
                % {"value": _text(value), "codes": "、".join(str(c) for c in ACCEPTED_CRS)},
            )
            return 4326
        return code

    def model_errors(self, exc: ValidationError, model: type[models.Model]) -> None:
        """Put the model's own validation errors in the columns they concern."""
        by_message = {
            str(c.get_violation_error_message()): c.fields[0]
            for c in model._meta.constraints
            if isinstance(c, models.UniqueConstraint) and len(c.fields) == 1
        }
        for field_name, messages in exc.message_dict.items():
            for message in messages:
                name = field_name
                if name == NON_FIELD_ERRORS:
                    name = by_message.get(message, "")
                key = self.spec.fields.get(name, "")
                if key == "owner":
                    key = "owner_uscc" if self.present("owner_uscc") else "owner_name"
                if key in self.bad or (key in _LOCATION and self.bad & _LOCATION):
                    continue  # already reported, in the words of the file
                self.error(key, message)


class _Context:
    """What rows are checked against: the importing user's scope and reference lookups."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._users: tuple[dict[str, Any], dict[str, list[Any]]] | None = None
        self._townships: tuple[dict[str, Any], dict[str, list[Any]]] | None = None
        self._township_names: dict[int, str] = {}

    def allowed(self, instance: models.Model) -> bool:
        return self.user is None or can(self.user, Action.ADD, instance)

    def water_users(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        if self._users is None:
            qs = (
                WaterUser.objects.all()
                if self.user is None
                else visible_to(self.user, Action.VIEW, WaterUser)
            )
            by_uscc: dict[str, Any] = {}
            by_name: dict[str, list[Any]] = {}
            for u in qs:
                if u.uscc:
                    by_uscc[u.uscc] = u
                by_name.setdefault(u.name.strip(), []).append(u)
            self._users = (by_uscc, by_name)
        return self._users

    def townships(self) -> tuple[dict[str, Any], dict[str, list[Any]]]:
        if self._townships is None:
            by_code: dict[str, Any] = {}
            by_name: dict[str, list[Any]] = {}
            for t in Township.objects.all():
                by_code[t.code] = t
                by_name.setdefault(t.name, []).append(t)
            self._townships = (by_code, by_name)
        return self._townships

    def township_name(self, pk: int | None) -> str:
        if pk is None:
            return ""
        if pk not in self._township_names:
            by_code, _by_name = self.townships()
            names = {t.pk: t.name for t in by_code.values()}
            self._township_names.update(names)
        return self._township_names.get(pk, str(pk))

    def owner(self, row: _Row) -> Any:
        uscc, name = row.text("owner_uscc"), row.text("owner_name")
        if not uscc and not name:
            return None
        by_uscc, by_name = self.water_users()
        if uscc:
            try:
                uscc = normalise_uscc(uscc)
            except USCCError as exc:
                row.error("owner_uscc", str(exc))
                return None
            found = by_uscc.get(uscc)
            if found is None:
                row.error(
                    "owner_uscc",
                    _("未找到统一社会信用代码为 %s 的取用水户（须已登记且在您的管辖范围内）。")
                    % uscc,
                )
                return None
            if name and found.name.strip() != name:
                row.error(
                    "owner_name",
                    _("与统一社会信用代码 %(uscc)s 登记的名称“%(name)s”不一致。")
                    % {"uscc": uscc, "name": found.name},
                )
            return found
        matches = by_name.get(name, [])
        if not matches:
            row.error(
                "owner_name",
                _("未找到名为“%s”的取用水户（须已登记且在您的管辖范围内）。") % name,
            )
            return None
        if len(matches) > 1:
            row.error(
                "owner_name",
                _("名为“%(name)s”的取用水户有 %(n)d 个，请填写权属人统一社会信用代码。")
                % {"name": name, "n": len(matches)},
            )
            return None
        return matches[0]

    def township(self, row: _Row) -> Any:
        value = row.text("township")
        if not value:
            return None
        by_code, by_name = self.townships()
        if value.isdigit():
            if len(value) != 9:
                row.error("township", _("区划代码“%s”应为9位数字。") % value)
                return None
            found = Township.resolve_code(value) if value in by_code else None
            if found is None:
                row.error("township", _("未找到区划代码为 %s 的乡镇。") % value)
            return found
        named = by_name.get(value, [])
        if not named:
            row.error("township", _("未找到名为“%s”的乡镇，可填乡镇名称或9位区划代码。") % value)
            return None
        current = [t for t in named if t.is_current]
        return current[0] if current else Township.resolve_code(named[0].code)


def _build_well(row: _Row, ctx: _Context) -> models.Model:
    well = Well()
    well.code = row.text("code")
    well.name = row.text("name")
    well.notes = row.text("notes")
    x, y, crs = row.number("x"), row.number("y"), row.epsg("crs")
    if x is not None and y is not None and not row.bad & _LOCATION:
        try:
            well.set_location(x, y, crs)
        except GeometryError as exc:
            row.error("crs" if "EPSG" in str(exc) else "x", str(exc))
    well.depth_m = row.decimal("depth")  # type: ignore[assignment]
    well.layer = row.choice("layer", AquiferLayer) or ""
    well.purpose = row.choice("purpose", WellPurpose) or ""
    well.status = row.choice("status", WellStatus) or WellStatus.ACTIVE
    well.owner = ctx.owner(row)
    well.drilled_on = row.date("drilled_on")
    return well


def _build_user(row: _Row, ctx: _Context) -> models.Model:
    user = WaterUser()
    user.name = row.text("name")
    user.uscc = row.text("uscc").upper()
    user.use_type = row.choice("use_type", UseType) or ""
    user.contact_person = row.text("contact")
    user.phone = row.text("phone")
    user.address = row.text("address")
    township = ctx.township(row)
    if township is not None:
        user.township = township
    return user


def _scope_error(row: _Row, instance: models.Model, ctx: _Context) -> None:
    """A row the importing user may not add: outside their township."""
    key = "x" if row.spec.name == "wells" else "township"
    township_id = getattr(instance, "township_id", None)
    if township_id is None or key in row.bad or (key == "x" and row.bad & _LOCATION):
        return
    if not ctx.allowed(instance):
        row.error(
            key,
            _("该记录属于%(township)s，不在您的管辖范围内。")
            % {"township": ctx.township_name(township_id)},
        )


def _unique_in_file(row: _Row, key: str, value: str, seen: dict[str, int], what: str) -> None:
    if not value or key in row.bad:
        return
    if value in seen:
        row.error(
            key,
            _("%(what)s“%(value)s”与第 %(row)d 行重复。")
            % {"what": what, "value": value, "row": seen[value]},
        )
    else:
        seen[value] = row.line
