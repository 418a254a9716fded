"""The roles people have in Aquifer, and what each may do (DESIGN.md, "Who uses it")."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Action", "Role", "role_of"]


class Role(models.TextChoices):
    BUREAU = "bureau", _("县水务局")
    TOWNSHIP = "township", _("乡镇工作人员")
    WATER_USER = "water_user", _("取用水户")
    INSPECTOR = "inspector", _("执法人员")
    PUBLIC = "public", _("公众")


class Action(models.TextChoices):
    VIEW = "view", _("查看")
    ADD = "add", _("新增")
    CHANGE = "change", _("修改")
    DELETE = "delete", _("删除")


def role_of(user: object) -> Role:
    """The role of a request's user; anonymous visitors are the public, superusers the bureau."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Role.PUBLIC
    if getattr(user, "is_superuser", False):
        return Role.BUREAU
    return Role(getattr(user, "role", Role.PUBLIC))
