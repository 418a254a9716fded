"""The readings store: raw readings, their hourly and daily rollups, and quarantined frames.

Readings
    :class:`Reading` is one narrow row per (device, element, observed_at): a value and a flags
    bitmask (:class:`ReadingFlag`). ``UNIQUE (device, element, observed_at)`` makes the store
    idempotent — a resent frame is stored once, the first value wins — and its index is the
    index of every series query (device and element by equality, a time range). Rows are only
    ever inserted, by :func:`aquifer.telemetry.store.ingest`; nothing deletes or edits them
    (the device foreign key is PROTECT). Quality checks of a later step set flags as readings
    arrive; a later correction of flags must call
    :func:`~aquifer.telemetry.store.rebuild_rollups`.

Rollups (why they exist, and why this design)
    A chart of ten years of 15-minute readings would otherwise fetch 350,400 rows (about 120 ms
    in Python before any drawing). :class:`ReadingHourly` and :class:`ReadingDaily` hold, per
    (device, element, bucket): n, min, max, sum (mean = sum / n), first and last with their
    times — everything a chart (line, min–max band, a meter's last register value) and a
    shape-preserving reduction need, so any range is served from a few thousand rows at most.

    Buckets are local-time hours and days of ``settings.TIME_ZONE`` (Asia/Shanghai: UTC+8, no
    daylight saving), stored as their UTC instant; a day is the bureau's day (00:00–24:00
    Beijing time), as in its reports.

    They are maintained by *merging*, after the readings' commit
    (:func:`aquifer.telemetry.store.refresh_rollups`): the readings above a watermark
    (:class:`RollupWatermark`, a reading id) are aggregated per touched (device, element,
    hour / day) and merged into the stored rows by upsert (n and sum added, min / max
    compared, first / last replaced when earlier / later), and the watermark moves past them
    in the same transaction. Each reading is inserted once (``ON CONFLICT DO NOTHING``) and
    merged once, so rollups equal a recomputation from the raw rows (the sum up to
    floating-point rounding order), which the tests check with random interleaved and resent
    batches and partial merges.

    Why after the commit, not in it? A device's acknowledgement waits for the commit. In the
    commit, each small batch upserted one rollup row per series it touched; merged over a
    window of 50,000 readings, a series' readings of many batches fold into one upsert, a
    third to a half of the cost per reading, and the commit a device waits for holds the
    readings only (``bench/ingest.py``, ``bench/gateway.py``; docs/operations.md). Readers
    that must be current add the readings above the watermark (the chart series, as
    TimescaleDB's real-time aggregates add the rows not materialised yet); jobs that read the
    rollups merge first. Why merging at all, not recomputing each touched bucket from its
    raw rows? Recomputing read every stored reading of each touched hour and every hourly
    row of each touched day: about twice the cost. Merging's weakness — a rollup can only be
    as right as the merges into it — is covered by
    :func:`~aquifer.telemetry.store.rebuild_rollups`, which recomputes a series from its raw
    rows (for a later change of flags, or any doubt). PostgreSQL-only tools (TimescaleDB
    continuous aggregates) were not an option: the store must behave the same on SQLite. On
    PostgreSQL the rollup tables leave 30 % of each page free (migration 0002) so that their
    constant updates stay HOT (no index churn).

    Rejected readings (``flags & REJECTED``) are kept in the raw table but left out of rollups
    and of chart series.

Quarantine
    :class:`QuarantinedFrame` keeps what the gateway could not turn into readings — frames from
    unknown stations, malformed frames, failed authentications, rejected values — as hex, with
    the reason. Nothing a device sends is dropped silently. Bureau only: the bytes may carry a
    station's password.
"""

from __future__ import annotations

import enum

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.scoping import Scope

__all__ = [
    "LatestReading",
    "OutboxFrame",
    "OutboxStatus",
    "QuarantineKind",
    "QuarantinedFrame",
    "RawFrame",
    "Reading",
    "ReadingDaily",
    "ReadingFlag",
    "ReadingHourly",
    "RollupWatermark",
    "Upstream",
    "UpstreamProtocol",
]

_DEVICE_SCOPE = Scope(township="device__well__township_id", owner="device__well__owner_id")


class ReadingFlag(enum.IntFlag):
    """Quality flags of a reading, stored as a bitmask (0: an unremarkable measurement)."""

    ESTIMATED = 1  # filled in or computed, not measured (估算)
    SUSPECT = 2  # failed a plausibility check; kept and shown (可疑)
    REJECTED = 4  # judged wrong; kept, but left out of rollups and charts (剔除)
    MANUAL = 8  # entered by hand (人工录入)


class Reading(models.Model):
    """One measured value of one element by one device at one time (监测数据)."""

    scope = _DEVICE_SCOPE

    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        on_delete=models.PROTECT,
        related_name="readings",
        db_index=False,  # the unique (device, element, observed_at) index serves it
    )
    element = models.CharField(_("监测要素"), max_length=32)
    observed_at = models.DateTimeField(_("观测时间"))
    value = models.FloatField(_("数值"))
    flags = models.PositiveSmallIntegerField(_("质量标志"), default=0)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("监测数据")
        verbose_name_plural = _("监测数据")
        constraints = [
            # A report's readings (one device, one time, several elements) share an index
            # page in this order: a batch of 2,000 devices' reports writes ~2,000 pages, not
            # ~10,000 (docs/operations.md, "Gateway throughput").
            models.UniqueConstraint(
                fields=["device", "observed_at", "element"], name="reading_device_time_element"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.element} {self.observed_at:%Y-%m-%d %H:%M} {self.value}"


class LatestReading(models.Model):
    """The newest non-rejected reading of each (device, element) series: one row per series,
    upserted by :func:`aquifer.telemetry.store.ingest` in the transaction that stores the
    readings, so "the latest value of every series" is one indexed read of this table, never a
    scan of the readings (the SensorThings Datastreams and their latest Observation read it).
    ``first_observed_at`` is the time of the first reading that reached the table."""

    scope = _DEVICE_SCOPE

    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique (device, element) index serves it
    )
    element = models.CharField(_("监测要素"), max_length=32)
    first_observed_at = models.DateTimeField(_("首次观测时间"))
    observed_at = models.DateTimeField(_("观测时间"))
    value = models.FloatField(_("数值"))
    reading_id = models.BigIntegerField(_("读数编号"))

    class Meta:
        verbose_name = _("最新数据")
        verbose_name_plural = _("最新数据")
        constraints = [
            models.UniqueConstraint(fields=["device", "element"], name="latest_device_element"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} {self.element} {self.observed_at:%Y-%m-%d %H:%M} {self.value}"


class Rollup(models.Model):
    """Aggregates of one device's element over one local-time bucket (non-rejected readings)."""

    scope = _DEVICE_SCOPE

    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique (device, element, bucket) index serves device lookups
    )
    element = models.CharField(_("监测要素"), max_length=32)
    bucket = models.DateTimeField(_("时段起点"))
    n = models.PositiveIntegerField(_("读数个数"))
    min = models.FloatField(_("最小值"))
    max = models.FloatField(_("最大值"))
    sum = models.FloatField(_("总和"))
    first = models.FloatField(_("首值"))
    last = models.FloatField(_("末值"))
    first_at = models.DateTimeField(_("首值时间"))
    last_at = models.DateTimeField(_("末值时间"))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.device_id} {self.element} {self.bucket:%Y-%m-%d %H:%M} n={self.n}"

    @property
    def mean(self) -> float:
        return self.sum / self.n


class ReadingHourly(Rollup):
    class Meta:
        verbose_name = _("小时统计")
        verbose_name_plural = _("小时统计")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "element", "bucket"], name="readinghourly_device_element_bucket"
            ),
        ]


class ReadingDaily(Rollup):
    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "element", "bucket"], name="readingdaily_device_element_bucket"
            ),
        ]
        # Data arrival (monitoring/arrival.py) counts every device's reports over a window of
        # days: a range of days read off this index alone, not every day of every device.
        indexes = [
            models.Index(fields=["bucket", "device", "n"], name="readingdaily_bucket_device"),
        ]


class RollupWatermark(models.Model):
    """How far the rollups have been merged (one row, ``pk=1``): every reading with
    ``id <= reading_id``; of the window ``reading_id < id <= window_end`` being merged slice
    by slice, the readings of devices below ``next_device``; nothing above ``window_end``.
    :func:`aquifer.telemetry.store.refresh_step` moves it in the transaction that merges
    (:class:`aquifer.telemetry.store.Mark`)."""

    reading_id = models.BigIntegerField(_("已汇总至读数编号"), default=0)
    window_end = models.BigIntegerField(_("汇总窗口止于读数编号"), default=0)
    next_device = models.BigIntegerField(_("窗口内下一设备编号"), default=0)
    device_step = models.BigIntegerField(_("每段设备编号跨度"), default=0)
    device_end = models.BigIntegerField(_("窗口内设备编号上界"), default=0)
    #: Bumped by every write of this row, and by every rebuild of rollups: a merge computed
    #: outside the write transaction (SQLite) is applied only if it did not change.
    generation = models.BigIntegerField(_("版本"), default=0)
    refreshed_at = models.DateTimeField(_("汇总时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"rollups through reading {self.reading_id}"


class QuarantineKind(models.TextChoices):
    UNKNOWN_STATION = "unknown_station", _("未登记测站")
    MALFORMED = "malformed", _("报文格式错误")
    AUTH_FAILED = "auth_failed", _("认证失败")
    REJECTED_VALUE = "rejected_value", _("数据被拒收")


class QuarantinedFrame(models.Model):
    """A frame the gateway received but did not store as readings (隔离报文)."""

    scope = Scope()  # no township, no owner: the bureau only

    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    protocol = models.CharField(_("通信规约"), max_length=16, blank=True)
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True)
    station = models.CharField(_("测站地址"), max_length=64, blank=True, db_index=True)
    raw_hex = models.TextField(_("原始报文 (十六进制)"), blank=True)
    reason = models.TextField(_("原因"))
    kind = models.CharField(_("类别"), max_length=16, choices=QuarantineKind.choices)

    class Meta:
        verbose_name = _("隔离报文")
        verbose_name_plural = _("隔离报文")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.protocol} {self.station} {self.kind}"


class RawFrame(models.Model):
    """A registered device's frame exactly as received (原始报文存档): the bytes the gateway
    decoded into readings, kept for evidence (an enforcement case copies the hex of the frames
    behind an alarm's readings into its hash chain).

    Written by :func:`aquifer.telemetry.store.ingest` in the transaction of the frame's
    readings (one ``executemany`` per batch). Append-only in the database (migration 0009:
    no UPDATE, no TRUNCATE); rows older than ``RAW_FRAME_RETENTION_DAYS`` are deleted by the
    ``telemetry.raw_frames`` job — evidence holds its own copy of the hex and its hash, so a
    pruned row takes nothing from a case. ``observed_at``: the earliest observation time the
    frame reported (the readings it produced are at or after it). Bureau only: SL651 frames
    carry the station's password.
    """

    scope = Scope()  # no township, no owner: the bureau only (passwords)

    device = models.ForeignKey(
        "registry.Device",
        verbose_name=_("监测设备"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the (device, observed_at) index serves it
    )
    protocol = models.CharField(_("通信规约"), max_length=16)
    # No index: ids ascend with reception, so the retention job finds its cutoff by the key
    # (archive.prune); one index fewer to write per frame on the gateway's hot path.
    received_at = models.DateTimeField(_("接收时间"))
    observed_at = models.DateTimeField(_("观测时间"), null=True, blank=True)
    raw = models.BinaryField(_("报文"))
    remote_addr = models.CharField(_("来源地址"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("原始报文")
        verbose_name_plural = _("原始报文")
        indexes = [models.Index(fields=["device", "observed_at"], name="rawframe_device_time")]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.protocol} {self.device_id}"

    @property
    def raw_hex(self) -> str:
        return bytes(self.raw).hex().upper()


class UpstreamProtocol(models.TextChoices):
    SL651 = "SL651", "SL 651-2014"
    SZY206 = "SZY206", "SZY 206-2016"


class Upstream(models.Model):
    """A higher platform that receives selected devices' frames (上级平台转发): where, in
    which protocol, and by which address it knows each station (``station_map``: our station
    address → its address; a station not in the map keeps its own). Bureau only."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    host = models.CharField(_("主机"), max_length=200)
    port = models.PositiveIntegerField(_("端口"))
    protocol = models.CharField(_("规约"), max_length=8, choices=UpstreamProtocol.choices)
    station_map = models.JSONField(_("测站地址映射"), default=dict, blank=True)
    devices = models.ManyToManyField(
        "registry.Device", verbose_name=_("转发设备"), related_name="+", blank=True
    )
    enabled = models.BooleanField(_("启用"), default=True)
    ack_timeout_s = models.FloatField(_("应答超时 (秒)"), default=10.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("上级平台")
        verbose_name_plural = _("上级平台")

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port} {self.protocol})"


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发送")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    FAILED = "failed", _("发送失败")


class OutboxFrame(models.Model):
    """One frame waiting for (or done with) one upstream: the bytes as received, the status
    per destination. Written in the gateway before the device is acknowledged, so a frame a
    device was told is stored is never lost to the upstream; sent in order per station, at
    least once (:mod:`aquifer.telemetry.forwarding.forwarder`). ``status`` ``sent`` with
    ``needs_reply`` is in flight (sent again after a restart); without, done."""

    scope = _DEVICE_SCOPE

    upstream = models.ForeignKey(
        Upstream, verbose_name=_("上级平台"), on_delete=models.PROTECT, related_name="outbox"
    )
    device = models.ForeignKey(
        "registry.Device", verbose_name=_("监测设备"), on_delete=models.PROTECT, related_name="+"
    )
    station = models.CharField(_("测站地址"), max_length=64)
    raw = models.BinaryField(_("报文"))
    needs_reply = models.BooleanField(_("需应答"), default=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("转发队列")
        verbose_name_plural = _("转发队列")
        indexes = [
            models.Index(fields=["upstream", "status", "station", "id"], name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream_id} {self.station} #{self.pk} {self.status}"
