from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope
from aquifer.core.texts import choice_label
from aquifer.registry.choices import DeviceKind, Protocol

_HEX10 = re.compile(r"^[0-9A-F]{10}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def normalise_station_address(protocol: str, address: str) -> str:
    """The canonical station address for a protocol, or raise ValueError.

    SL 651 and SZY 206 stations are keyed by the raw 5-byte address as 10 hex digits
    (../shared/reference/protocols.md §1.3, §2.3); MQTT and HTTP devices by a client id.
    """
    address = (address or "").strip()
    if protocol in (Protocol.SL651, Protocol.SZY206):
        address = address.replace(" ", "").upper()
        if not _HEX10.match(address):
            raise ValueError(str(_("SL651/SZY206 测站地址应为10位十六进制数字（5字节）。")))
        if address in ("0000000000", "FFFFFFFFFF"):
            raise ValueError(str(_("测站地址不能为全0或全F（无效地址/广播地址）。")))
    elif not _CLIENT_ID.match(address):
        raise ValueError(str(_("设备标识应为1至64位字母、数字或 _ . : -。")))
    return address


@track(secret_fields=("secret_hash",))
class Device(models.Model):
    """A metering or monitoring device (遥测终端/计量设施) installed on a well.

    It authenticates with its station address and a secret (the SL 651 password, an MQTT or
    HTTP token); only a salted hash of the secret is stored.
    """

    scope = Scope(township="well__township_id", owner="well__owner_id")

    kind = models.CharField(_("设备类型"), max_length=16, choices=DeviceKind.choices)
    protocol = models.CharField(_("通信规约"), max_length=8, choices=Protocol.choices)
    station_address = models.CharField(_("测站地址"), max_length=64, unique=True)
    secret_hash = models.CharField(_("密钥（散列）"), max_length=128, blank=True, editable=False)
    well = models.ForeignKey(
        "registry.Well",
        verbose_name=_("安装井"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
    )
    reporting_interval_min = models.PositiveIntegerField(
        _("上报间隔 (分钟)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    manufacturer = models.CharField(_("厂家"), max_length=100, blank=True)
    model_name = models.CharField(_("型号"), max_length=100, blank=True)
    serial_number = models.CharField(_("出厂编号"), max_length=100, blank=True)
    installed_on = models.DateField(_("安装日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("监测设备")
        verbose_name_plural = _("监测设备")
        ordering = ["station_address"]

    def __str__(self) -> str:
        return f"{choice_label(DeviceKind, self.kind)} {self.station_address}"

    def get_absolute_url(self) -> str:
        return reverse("registry:device_detail", args=[self.pk])

    #: PBKDF2 rounds for device secrets. Far fewer than for people's passwords: a device is
    #: checked on every connection, and an SL651 password is 2 bytes, which no number of
    #: rounds protects; long MQTT/HTTP tokens are random and need none.
    SECRET_ITERATIONS = 10_000

    def set_secret(self, secret: str) -> None:
        if not secret or len(secret) < 4:
            raise ValidationError({"secret": _("密钥至少4个字符。")})
        hasher = PBKDF2PasswordHasher()
        self.secret_hash = hasher.encode(secret, hasher.salt(), iterations=self.SECRET_ITERATIONS)

    def check_secret(self, secret: str) -> bool:
        return bool(self.secret_hash) and check_password(secret, self.secret_hash)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            self.station_address = normalise_station_address(self.protocol, self.station_address)
        except ValueError as exc:
            errors["station_address"] = str(exc)
        if errors:
            raise ValidationError(errors)
