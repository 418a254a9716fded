"""The public side (issue 18): complaints and reports (举报/投诉), the bureau's news, and the
snapshot of the public monitoring wells' condition that the portal reads.

A :class:`Complaint` is filed by anyone, named or not; the filer gets a tracking number and a
secret (stored as its SHA-256, shown once) to follow it. It is routed to the township its place
lies in, or to the bureau by category (``PORTAL["BUREAU_CATEGORIES"]``), and carries a reply
deadline. Its state moves only through ``portal.services``; every move is a
:class:`ComplaintEvent` (``public`` ones — status changes, the reply, a rejection's reason —
are shown to the filer; notes are not) and, the complaint being tracked, an audit entry.
A :class:`ComplaintLink` names the inspection or enforcement case it opened (kind, id, label).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope

__all__ = [
    "Complaint",
    "ComplaintAction",
    "ComplaintCategory",
    "ComplaintEvent",
    "ComplaintLink",
    "ComplaintState",
    "FilingAttempt",
    "NewsItem",
    "NewsKind",
    "WellSnapshot",
]


class ComplaintCategory(models.TextChoices):
    ILLEGAL_WELL = "illegal_well", _("私打乱采、非法取水井")
    POLLUTION = "pollution", _("地下水污染")
    UNMETERED = "unmetered", _("未计量取水")
    DEVICE = "device", _("监测设备损坏")
    OTHER = "other", _("其他")


class ComplaintState(models.TextChoices):
    NEW = "new", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")
    REJECTED = "rejected", _("不予受理")


#: States in which a reply is still owed (the deadline runs).
OPEN_STATES = (ComplaintState.NEW, ComplaintState.ACCEPTED)


class ComplaintAction(models.TextChoices):
    FILE = "file", _("提交")
    ACCEPT = "accept", _("受理")
    REPLY = "reply", _("答复")
    CLOSE = "close", _("办结")
    REJECT = "reject", _("不予受理")
    NOTE = "note", _("内部备注")
    LINK = "link", _("立案")


@track(secret_fields=("secret_hash", "name", "phone"))
class Complaint(models.Model):
    """A complaint or report from the public (举报/投诉)."""

    scope = Scope(township="township_id")

    number = models.CharField(_("受理编号"), max_length=20, unique=True)
    secret_hash = models.CharField(max_length=64, editable=False)
    category = models.CharField(_("类别"), max_length=16, choices=ComplaintCategory.choices)
    description = models.TextField(_("问题描述"), max_length=4000)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    place = models.CharField(_("地点说明"), max_length=200, blank=True)
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("承办乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The filer's identity: the bureau alone sees it (capability portal.filer_identity).
    name = models.CharField(_("举报人姓名"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=ComplaintState.choices, default=ComplaintState.NEW
    )
    filed_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)
    due_at = models.DateTimeField(_("答复期限"))
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reply = models.TextField(_("答复意见"), blank=True)
    reason = models.TextField(_("不予受理理由"), blank=True)
    overdue_notified = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("公众举报")
        verbose_name_plural = _("公众举报")
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["state", "township"], name="complaint_state_township")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("portal:complaint_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()

    @property
    def handler(self) -> str:
        return self.township.name if self.township_id and self.township else str(_("县水务局"))


class ComplaintEvent(models.Model):
    """One step on a complaint's timeline. ``public`` ones are shown to the filer."""

    scope = Scope(township="complaint__township_id")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), default=timezone.now)
    action = models.CharField(_("动作"), max_length=8, choices=ComplaintAction.choices)
    from_state = models.CharField(_("原状态"), max_length=10, blank=True)
    to_state = models.CharField(_("新状态"), max_length=10, choices=ComplaintState.choices)
    username = models.CharField(_("操作人"), max_length=150, blank=True)
    text = models.TextField(_("说明"), blank=True)
    public = models.BooleanField(_("举报人可见"), default=True)

    class Meta:
        verbose_name = _("举报处理记录")
        verbose_name_plural = _("举报处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.action}"


@track
class ComplaintLink(models.Model):
    """A case the complaint opened elsewhere (an inspection, an enforcement case): its kind, id
    and a label the filer sees. Written by ``portal.services.link_case``."""

    scope = Scope(township="complaint__township_id")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("类型"), max_length=32)
    object_id = models.CharField(_("编号"), max_length=40)
    label = models.CharField(_("说明"), max_length=200)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("立案时间"), default=timezone.now)

    class Meta:
        verbose_name = _("举报关联案件")
        verbose_name_plural = _("举报关联案件")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "object_id"], name="complaintlink_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"


class FilingAttempt(models.Model):
    """One filing from an address, kept for the rate limit: only a salted hash of the address
    (HMAC with the site's secret key), never the address itself."""

    address_hash = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("提交记录")
        verbose_name_plural = _("提交记录")

    def __str__(self) -> str:
        return f"{self.address_hash[:8]} {self.at}"


class NewsKind(models.TextChoices):
    NEWS = "news", _("新闻")
    NOTICE = "notice", _("通知公告")
    PUBLICITY = "publicity", _("宣传")


@track
class NewsItem(models.Model):
    """News, notices and publicity the bureau writes (宣传); shown once published."""

    scope = Scope(shared=True, public=True)

    kind = models.CharField(_("类型"), max_length=10, choices=NewsKind.choices, default="news")
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    body_en = models.TextField(_("英文正文"), blank=True)
    published = models.BooleanField(_("已发布"), default=False)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("新闻公告")
        verbose_name_plural = _("新闻公告")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("portal:news_detail", args=[self.pk])


class WellSnapshot(models.Model):
    """A public monitoring well's current condition as the portal shows it, refreshed by the
    ``portal.snapshot`` job (never computed per request). Nothing personal: no owner, the
    coordinates rounded (``PORTAL["COORD_DECIMALS"]``, coarser for a private well)."""

    scope = Scope(shared=True, public=True)

    monitoring_well = models.OneToOneField(
        "registry.MonitoringWell", on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(_("编号"), max_length=40, db_index=True)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    township = models.CharField(_("乡镇"), max_length=60, blank=True)
    township_id_ref = models.IntegerField(null=True, blank=True, db_index=True)
    zone = models.CharField(_("分区"), max_length=100, blank=True)
    network = models.CharField(_("监测网级别"), max_length=12)
    layer = models.CharField(_("含水层"), max_length=10, blank=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    private = models.BooleanField(default=False)
    element = models.CharField(_("监测要素"), max_length=16, blank=True)
    latest_value = models.FloatField(_("最新值 (m)"), null=True, blank=True)
    latest_at = models.DateTimeField(_("最新观测时间"), null=True, blank=True)
    same_month_change = models.FloatField(_("同比变幅 (m)"), null=True, blank=True)
    status = models.CharField(_("趋势状态"), max_length=16, blank=True)
    slope_per_year = models.FloatField(_("水位变化速率 (m/年)"), null=True, blank=True)
    quality_class = models.PositiveSmallIntegerField(_("水质类别"), null=True, blank=True)
    quality_deciding = models.JSONField(_("决定类别的指标"), default=list, blank=True)
    quality_sampled_at = models.DateTimeField(_("采样时间"), null=True, blank=True)
    hydrograph = models.JSONField(default=list, blank=True)  # [["2026-01", 12.3], …]
    refreshed_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("公开监测井现状")
        verbose_name_plural = _("公开监测井现状")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("portal:well", args=[self.code])
