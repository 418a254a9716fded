from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.codes import USCCError, normalise_uscc
from aquifer.core.scoping import Scope
from aquifer.registry.choices import UseType


@track
class WaterUser(models.Model):
    """A licensed water user (取用水户): an enterprise, an institution or a village collective.

    Organisations carry an 18-character unified social credit code (GB 32100-2015, check digit
    verified); households and farmer groups without one leave it blank.
    """

    scope = Scope(township="township_id", owner="pk")

    name = models.CharField(_("名称"), max_length=100)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        on_delete=models.PROTECT,
        related_name="water_users",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("取用水户")
        verbose_name_plural = _("取用水户")
        ordering = ["township__code", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"],
                condition=~models.Q(uscc=""),
                name="wateruser_uscc_unique",
                violation_error_message=_("该统一社会信用代码已登记。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:wateruser_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.uscc:
            try:
                self.uscc = normalise_uscc(self.uscc)
            except USCCError as exc:
                errors["uscc"] = str(exc)
            else:
                # The conditional unique constraint is the database's backstop; this check
                # puts the message on the field.
                taken = WaterUser.objects.filter(uscc=self.uscc).exclude(pk=self.pk)
                if taken.exists():
                    errors["uscc"] = _("该统一社会信用代码已登记。")
        if self.township_id and not self.township.is_current:
            errors["township"] = _("该乡镇已撤销，请选择现行乡镇。")
        phone = self.phone.replace(" ", "").replace("-", "")
        if phone and not (phone.lstrip("+").isdigit() and 7 <= len(phone.lstrip("+")) <= 15):
            errors["phone"] = _("电话号码应为7至15位数字。")
        if errors:
            raise ValidationError(errors)
