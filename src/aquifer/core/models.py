"""Accounts, API tokens and the append-only audit trail."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.roles import Role
from aquifer.core.scoping import Scope


class User(AbstractUser):
    """A person who logs in. Their role decides what they see (``core.scoping``)."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.PUBLIC)
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("所属乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="officers",
        help_text=_("乡镇工作人员必填"),
    )
    water_user = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("所属取用水户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        help_text=_("取用水户账号必填"),
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.role == Role.TOWNSHIP and not self.township_id:
            errors["township"] = str(_("乡镇工作人员必须指定所属乡镇。"))
        if self.role != Role.TOWNSHIP and self.township_id:
            errors["township"] = str(_("只有乡镇工作人员可以指定所属乡镇。"))
        if self.role == Role.WATER_USER and not self.water_user_id:
            errors["water_user"] = str(_("取用水户账号必须指定所属取用水户。"))
        if self.role != Role.WATER_USER and self.water_user_id:
            errors["water_user"] = str(_("只有取用水户账号可以指定所属取用水户。"))
        if errors:
            raise ValidationError(errors)


class ApiToken(models.Model):
    """A bearer token for machine clients. Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token; the clear key is returned once and never stored."""
        key = "aq_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.digest(key), prefix=key[:8])
        return token, key


class AuditEntry(models.Model):
    """One create, update or delete of a tracked record: who, when, and what changed; or,
    with ``source="security"``, one security event (login, failed login, lockout, refusal).

    Rows are append-only: database triggers (migrations 0002 and 0004) refuse UPDATE, DELETE
    and an INSERT that would replace an existing row, on SQLite and PostgreSQL alike, so not
    even a bug in Aquifer can rewrite history. Each row also carries ``entry_hash``, a SHA-256
    over its content and its predecessor's hash (``core.chain``): an entry edited, removed or
    slipped in behind the application's back breaks the chain, and ``aquifer audit verify``
    names the first broken link.
    """

    class ActionChoices(models.TextChoices):
        CREATE = "create", _("新建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOCKOUT = "lockout", _("账号锁定")
        THROTTLED = "throttled", _("登录限速")
        DENIED = "denied", _("拒绝访问")
        EXPIRED = "expired", _("会话超时")

    scope = Scope(township="township_id")

    time = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # No foreign key: an entry must outlive the account and the record it names.
    user_id = models.BigIntegerField(_("用户ID"), null=True, blank=True)
    username = models.CharField(_("用户"), max_length=150, blank=True)
    request_id = models.CharField(_("请求号"), max_length=36, blank=True)
    source = models.CharField(_("来源"), max_length=16, blank=True)
    action = models.CharField(_("操作"), max_length=16, choices=ActionChoices.choices)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象ID"), max_length=64)
    object_repr = models.CharField(_("对象"), max_length=200)
    township_id = models.BigIntegerField(_("乡镇ID"), null=True, blank=True, db_index=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    # The chain (core.chain): the previous entry's hash, and this one's over its content.
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(_("哈希"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(str(_("审计记录不可修改。")))
        from aquifer.core import chain

        with chain.locked() as previous:
            self.prev_hash = previous()
            self.entry_hash = chain.entry_hash(self)
            super().save(*args, **kwargs)

    @property
    def changes(self) -> dict[str, tuple[Any, Any]]:
        """``{field: (old, new)}`` for each field that differs between before and after."""
        before = self.before or {}
        after = self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


class JobState(models.Model):
    """The scheduler's record of one periodic job (:mod:`aquifer.core.jobs`)."""

    name = models.CharField(max_length=64, unique=True)
    next_due = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_started = models.DateTimeField(null=True, blank=True)
    last_finished = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(default=True)
    failures = models.PositiveIntegerField(default=0)
    runs = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Attachment(models.Model):
    """A photo, scan or PDF kept with a record (:mod:`aquifer.core.attachments`).

    The owner is any record (a generic relation); the bytes live on disk under their SHA-256.
    A row never changes (a database trigger refuses UPDATE) and is never deleted by Aquifer:
    what was received as evidence stays as received."""

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("content_type", "object_id")
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    mime = models.CharField(_("类型"), max_length=64)
    name = models.CharField(_("文件名"), max_length=200)
    label = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["uploaded_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="attachment_owner_idx")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(str(_("附件不可修改。")))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError(str(_("附件不可删除。")))

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


class Docketed:
    """A record worked to a deadline (a maintenance ticket, an enforcement case): numbered
    by a prefix and its year (``WX2026-00042``), open while its ``state`` is one of
    ``OPEN_STATES``, overdue once open past ``due_at``. A mixin for a model that has
    ``title``, ``state``, ``opened_at`` and ``due_at``."""

    NUMBER_PREFIX: str = ""
    OPEN_STATES: Any = ()
    pk: Any
    title: str
    state: str
    opened_at: Any
    due_at: Any

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"{self.NUMBER_PREFIX}{self.opened_at:%Y}-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class Timestamped(models.Model):
    """When a record was created and last changed (who did it is in the audit trail)."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


@track
class SavedFilter(models.Model):
    """A list's filter kept under a name (issue 20): the list's URL name and its query string,
    the owner's own, or (the bureau's) shared with every account of the owner's role. Its
    keys are the list's FilterSet's (:func:`aquifer.core.filters.savable_list`)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有者"),
        on_delete=models.CASCADE,
        related_name="saved_filters",
    )
    url_name = models.CharField(_("列表"), max_length=100)
    name = models.CharField(_("名称"), max_length=60)
    query = models.CharField(_("筛选条件"), max_length=1000, blank=True)
    shared = models.BooleanField(_("同角色共享"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("保存的筛选")
        verbose_name_plural = _("保存的筛选")
        ordering = ["url_name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "url_name", "name"], name="savedfilter_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse(self.url_name)}?{self.query}" if self.query else reverse(self.url_name)
