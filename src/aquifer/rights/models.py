"""Water rights: the ledger (accounts, journals, entries), certificates and the market.

The ledger is double entry and append-only (migration 0002 installs triggers refusing UPDATE
and DELETE on journals and entries, as core's audit trail does). Accounts are keyed by holder
(a water user, a township, the county reserve, or the county's cap — the contra account a
year's rights are issued from), use type, source, zone and year; ``held`` accounts hold what a
holder has put up for sale (a listing, an auction offer, a trade awaiting approval), so it
cannot be sold twice. Balances are sums of entries.

Trades involve two townships and two holders; who sees a trade is decided through its
:class:`TradeParty` rows, which carry a :class:`~aquifer.core.scoping.Scope` like every other
record.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.core.audit import track
from aquifer.core.scoping import Scope
from aquifer.registry.choices import UseType


class HolderKind(models.TextChoices):
    WATER_USER = "water_user", _("取用水户")
    TOWNSHIP = "township", _("乡镇")
    RESERVE = "reserve", _("县级预留")
    COUNTY = "county", _("县总量指标")


class Source(models.TextChoices):
    SHALLOW = "shallow", _("浅层地下水")
    DEEP = "deep", _("深层地下水")
    SURFACE = "surface", _("地表水")


class JournalKind(models.TextChoices):
    ISSUE = "issue", _("下达总量")
    ALLOCATION = "allocation", _("初始分配")
    TRANSFER = "transfer", _("转让")
    LEASE = "lease", _("租赁")
    HOLD = "hold", _("冻结")
    RELEASE = "release", _("解冻")
    EXPIRY = "expiry", _("到期收回")


class Account(models.Model):
    """One holder's rights of one use type, source and zone for one year (m³)."""

    scope = Scope(township="township_id", owner="water_user_id")

    key = models.CharField(max_length=120, unique=True, editable=False)
    kind = models.CharField(_("持有人类型"), max_length=12, choices=HolderKind.choices)
    water_user = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("取用水户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_accounts",
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_accounts",
    )
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices, blank=True)
    source = models.CharField(_("水源"), max_length=10, choices=Source.choices, blank=True)
    zone = models.ForeignKey(
        "registry.Zone",
        verbose_name=_("分区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rights_accounts",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    held = models.BooleanField(_("冻结户"), default=False)

    class Meta:
        verbose_name = _("水权账户")
        verbose_name_plural = _("水权账户")
        ordering = ["year", "kind", "id"]
        indexes = [models.Index(fields=["water_user", "year"], name="rights_acct_user_year")]

    def __str__(self) -> str:
        who = self.holder_name()
        parts = [who, str(self.year)]
        if self.use_type:
            parts.append(str(self.get_use_type_display()))
        if self.source:
            parts.append(str(self.get_source_display()))
        if self.zone_id:
            parts.append(str(self.zone))
        if self.held:
            parts.append(str(_("冻结")))
        return " · ".join(parts)

    def holder_name(self) -> str:
        if self.kind == HolderKind.WATER_USER and self.water_user_id:
            return str(self.water_user)
        if self.kind == HolderKind.TOWNSHIP and self.township_id:
            return str(self.township)
        return str(self.get_kind_display())

    @staticmethod
    def make_key(
        kind: str,
        water_user_id: int | None,
        township_id: int | None,
        use_type: str,
        source: str,
        zone_id: int | None,
        year: int,
        held: bool,
    ) -> str:
        return ":".join(
            str(x if x not in (None, "") else "-")
            for x in (kind, water_user_id, township_id, use_type, source, zone_id, year)
        ) + (":H" if held else "")


class Journal(models.Model):
    """One balanced event of the ledger (append-only)."""

    kind = models.CharField(_("类型"), max_length=12, choices=JournalKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    memo = models.CharField(_("摘要"), max_length=300, blank=True)
    ref = models.CharField(_("关联"), max_length=60, blank=True, db_index=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    created_by = models.CharField(_("经办人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.year}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(str(_("记账凭证不可修改。")))
        super().save(*args, **kwargs)


class Entry(models.Model):
    """One line of a journal: ``delta`` m³ into an account (append-only)."""

    scope = Scope(township="account__township_id", owner="account__water_user_id")

    journal = models.ForeignKey(
        Journal, verbose_name=_("凭证"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("账户"), on_delete=models.PROTECT, related_name="entries"
    )
    delta = models.BigIntegerField(_("变动 (m³)"))

    def __str__(self) -> str:
        return f"{self.account_id}: {self.delta:+d}"

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["-journal_id", "id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(str(_("分录不可修改。")))
        super().save(*args, **kwargs)


@track
class MarketSettings(models.Model):
    """A version of the bureau's water-rights settings; the newest row is in force.

    ``values`` holds the keys of :mod:`aquifer.rights.conf` the bureau set (others keep
    their defaults).
    """

    values = models.JSONField(_("设置"), default=dict)
    document = models.CharField(_("依据文件"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("生效时间"), auto_now_add=True)
    created_by = models.CharField(_("设置人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("水权交易规则设置")
        verbose_name_plural = _("水权交易规则设置")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{_('水权交易规则设置')} #{self.pk}"


class RightStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    REVOKED = "revoked", _("已收回")


@track
class WaterRight(models.Model):
    """An initial water right (确权) and its certificate: holder, use, source, zone, volume per
    year and period. Granting it allocates the volume, year by year, from the county reserve."""

    scope = Scope(township="township_id", owner="water_user_id")

    number = models.CharField(_("证书编号"), max_length=40, unique=True)
    kind = models.CharField(
        _("持有人类型"),
        max_length=12,
        choices=[
            (HolderKind.WATER_USER, HolderKind.WATER_USER.label),
            (HolderKind.TOWNSHIP, HolderKind.TOWNSHIP.label),
        ],
    )
    water_user = models.ForeignKey(
        "registry.WaterUser",
        verbose_name=_("取用水户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="water_rights",
    )
    township = models.ForeignKey(
        "registry.Township",
        verbose_name=_("乡镇"),
        on_delete=models.PROTECT,
        related_name="water_rights",
    )
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    source = models.CharField(_("水源"), max_length=10, choices=Source.choices)
    zone = models.ForeignKey(
        "registry.Zone",
        verbose_name=_("分区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="water_rights",
    )
    volume_m3 = models.PositiveBigIntegerField(_("年水量 (m³)"), validators=[MinValueValidator(1)])
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    end_year = models.PositiveSmallIntegerField(_("终止年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RightStatus.choices, default=RightStatus.ACTIVE
    )
    issued_on = models.DateField(_("发证日期"), default=timezone.localdate)
    document = models.CharField(_("确权依据"), max_length=200, blank=True)
    issued_by = models.CharField(_("发证人"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("初始水权")
        verbose_name_plural = _("初始水权")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("rights:right_detail", args=[self.pk])

    def holder_name(self) -> str:
        return str(self.water_user) if self.water_user_id else str(self.township)


class TradeType(models.TextChoices):
    REGIONAL = "regional", _("区域水权交易")
    PERMIT = "permit", _("取水权交易")
    IRRIGATION = "irrigation", _("灌溉用水户水权交易")


class TradeMode(models.TextChoices):
    NEGOTIATED = "negotiated", _("协议转让")
    LISTING = "listing", _("公开挂牌")
    AUCTION = "auction", _("统一价格拍卖（试点）")


class TradeStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    ANNOUNCED = "announced", _("公示中")
    COMPLETED = "completed", _("已成交")
    REJECTED = "rejected", _("未批准")
    FAILED = "failed", _("交割失败")
    CANCELLED = "cancelled", _("已撤销")


OPEN_TRADE = (TradeStatus.PENDING, TradeStatus.ANNOUNCED)


class Trade(models.Model):
    """A trade of water rights: who, what, how much per year, for which years, at what price.

    Its volume is held in the seller's held account from submission until it completes (to the
    buyer) or ends otherwise (back to the seller). Visible to its parties (:class:`TradeParty`)
    and the bureau; completed trades are disclosed to the public (``rights.disclosure``).
    """

    number = models.CharField(_("交易编号"), max_length=40, unique=True)
    mode = models.CharField(_("交易方式"), max_length=12, choices=TradeMode.choices)
    trade_type = models.CharField(_("交易类型"), max_length=12, choices=TradeType.choices)
    is_lease = models.BooleanField(_("租赁（期满收回）"), default=False)
    seller_account_key = models.CharField(max_length=120, editable=False)
    buyer_account_key = models.CharField(max_length=120, editable=False)
    seller_name = models.CharField(_("出让方"), max_length=100)
    buyer_name = models.CharField(_("受让方"), max_length=100)
    seller_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    buyer_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seller_township = models.ForeignKey(
        "registry.Township", on_delete=models.PROTECT, related_name="+"
    )
    buyer_township = models.ForeignKey(
        "registry.Township", on_delete=models.PROTECT, related_name="+"
    )
    seller_zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    buyer_zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    buyer_use_type = models.CharField(_("受让用途"), max_length=16, choices=UseType.choices)
    source = models.CharField(_("水源"), max_length=10, choices=Source.choices)
    volume_m3 = models.PositiveBigIntegerField(_("年水量 (m³)"), validators=[MinValueValidator(1)])
    price = models.DecimalField(_("单价 (元/m³)"), max_digits=10, decimal_places=2)
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    end_year = models.PositiveSmallIntegerField(_("终止年度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=TradeStatus.choices, default=TradeStatus.PENDING
    )
    needs_approval = models.BooleanField(_("须审批"), default=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    created_by = models.CharField(_("申请人"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decided_by = models.CharField(_("审批人"), max_length=150, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    announced_at = models.DateTimeField(_("公示开始"), null=True, blank=True)
    announcement_ends = models.DateTimeField(_("公示截止"), null=True, blank=True)
    completed_at = models.DateTimeField(_("成交时间"), null=True, blank=True)
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    listing = models.ForeignKey(
        "Listing", null=True, blank=True, on_delete=models.PROTECT, related_name="trades"
    )
    auction = models.ForeignKey(
        "AuctionRound", null=True, blank=True, on_delete=models.PROTECT, related_name="trades"
    )
    quota_reverted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("水权交易")
        verbose_name_plural = _("水权交易")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "completed_at"], name="rights_trade_status")]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("rights:trade_detail", args=[self.pk])

    @property
    def years(self) -> range:
        return range(self.start_year, self.end_year + 1)

    @property
    def amount(self) -> Any:
        return self.price * self.volume_m3 * len(self.years)


class PartyRole(models.TextChoices):
    SELLER = "seller", _("出让方")
    BUYER = "buyer", _("受让方")


class TradeParty(models.Model):
    """A party to a trade; scoping a trade's visibility goes through these rows."""

    scope = Scope(township="township_id", owner="water_user_id")

    trade = models.ForeignKey(Trade, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=8, choices=PartyRole.choices)
    water_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey("registry.Township", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"{self.trade_id} {self.role}"

    class Meta:
        verbose_name = _("交易当事方")
        verbose_name_plural = _("交易当事方")
        constraints = [
            models.UniqueConstraint(fields=["trade", "role"], name="rights_party_unique")
        ]


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    UPHELD = "upheld", _("异议成立")
    DISMISSED = "dismissed", _("异议不成立")


class Objection(models.Model):
    """An objection to a trade during its announcement (公示), from anyone."""

    trade = models.ForeignKey(Trade, on_delete=models.PROTECT, related_name="objections")
    name = models.CharField(_("异议人"), max_length=100)
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    text = models.TextField(_("异议内容"), max_length=2000)
    created_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    decided_by = models.CharField(_("处理人"), max_length=150, blank=True)
    decision_note = models.CharField(_("处理意见"), max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.text[:30]}"

    class Meta:
        verbose_name = _("公示异议")
        verbose_name_plural = _("公示异议")
        ordering = ["-created_at", "-id"]


class ListingStatus(models.TextChoices):
    OPEN = "open", _("挂牌中")
    AWARDED = "awarded", _("已成交")
    CLOSED = "closed", _("流拍")
    CANCELLED = "cancelled", _("已撤牌")


class Listing(models.Model):
    """A public listing (挂牌) of saved water; bids until ``closes_at``, highest price wins.

    Public: anyone sees open listings (the seller's name as the disclosure setting allows).
    """

    scope = Scope(township="township_id", owner="water_user_id", public=True)

    number = models.CharField(_("挂牌编号"), max_length=40, unique=True)
    account_key = models.CharField(max_length=120, editable=False)
    water_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey("registry.Township", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seller_name = models.CharField(_("出让方"), max_length=100)
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    source = models.CharField(_("水源"), max_length=10, choices=Source.choices)
    volume_m3 = models.PositiveBigIntegerField(_("年水量 (m³)"), validators=[MinValueValidator(1)])
    min_price = models.DecimalField(_("挂牌底价 (元/m³)"), max_digits=10, decimal_places=2)
    start_year = models.PositiveSmallIntegerField(_("起始年度"))
    end_year = models.PositiveSmallIntegerField(_("终止年度"))
    is_lease = models.BooleanField(_("租赁（期满收回）"), default=False)
    opens_at = models.DateTimeField(_("挂牌时间"), default=timezone.now)
    closes_at = models.DateTimeField(_("截止时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=ListingStatus.choices, default=ListingStatus.OPEN
    )

    class Meta:
        verbose_name = _("挂牌")
        verbose_name_plural = _("挂牌")
        ordering = ["-opens_at", "-id"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("rights:listing_detail", args=[self.pk])


class BidStatus(models.TextChoices):
    OPEN = "open", _("有效")
    WON = "won", _("中标")
    LOST = "lost", _("未中标")
    WITHDRAWN = "withdrawn", _("已撤回")


class Bid(models.Model):
    """A bid on a listing (the bidder's; sealed: others see only the count)."""

    scope = Scope(township="township_id", owner="water_user_id")

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="bids")
    water_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey("registry.Township", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bidder_name = models.CharField(_("竞买方"), max_length=100)
    volume_m3 = models.PositiveBigIntegerField(_("年水量 (m³)"), validators=[MinValueValidator(1)])
    price = models.DecimalField(_("报价 (元/m³)"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("报价时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=10, choices=BidStatus.choices, default=BidStatus.OPEN
    )
    filled_m3 = models.PositiveBigIntegerField(_("成交水量 (m³)"), default=0)

    def __str__(self) -> str:
        return f"{self.bidder_name} {self.volume_m3} m³ @ {self.price}"

    class Meta:
        verbose_name = _("竞价")
        verbose_name_plural = _("竞价")
        ordering = ["-price", "created_at", "id"]


class RoundStatus(models.TextChoices):
    OPEN = "open", _("接受报价")
    CLEARED = "cleared", _("已出清")
    CANCELLED = "cancelled", _("已取消")


class AuctionRound(models.Model):
    """A periodic sealed-bid double auction (pilot mode) for one source and year(s).

    ``zone`` None: a county-wide round, which buyers in zones whose extraction must not rise
    cannot enter; a round for one zone admits only that zone's holders.
    """

    scope = Scope(public=True)

    number = models.CharField(_("场次编号"), max_length=40, unique=True)
    source = models.CharField(_("水源"), max_length=10, choices=Source.choices)
    zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    opens_at = models.DateTimeField(_("开始"), default=timezone.now)
    closes_at = models.DateTimeField(_("截止"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    clearing_price = models.DecimalField(
        _("出清价 (元/m³)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    cleared_volume_m3 = models.PositiveBigIntegerField(_("出清水量 (m³)"), default=0)
    cleared_at = models.DateTimeField(_("出清时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("拍卖场次")
        verbose_name_plural = _("拍卖场次")
        ordering = ["-opens_at", "-id"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("rights:round_detail", args=[self.pk])


class AuctionOrder(models.Model):
    """A sealed order in an auction round; a sell order's volume is held until clearing."""

    scope = Scope(township="township_id", owner="water_user_id")

    round = models.ForeignKey(AuctionRound, on_delete=models.PROTECT, related_name="orders")
    side = models.CharField(
        _("方向"), max_length=4, choices=[("buy", _("买入")), ("sell", _("卖出"))]
    )
    account_key = models.CharField(max_length=120, editable=False)
    water_user = models.ForeignKey(
        "registry.WaterUser", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey("registry.Township", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(
        "registry.Zone", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    holder_name = models.CharField(_("报价方"), max_length=100)
    use_type = models.CharField(_("用水类型"), max_length=16, choices=UseType.choices)
    volume_m3 = models.PositiveBigIntegerField(_("水量 (m³)"), validators=[MinValueValidator(1)])
    price = models.DecimalField(_("限价 (元/m³)"), max_digits=10, decimal_places=2)
    created_at = models.DateTimeField(_("报价时间"), default=timezone.now)
    filled_m3 = models.PositiveBigIntegerField(_("成交水量 (m³)"), default=0)
    withdrawn = models.BooleanField(_("已撤回"), default=False)

    def __str__(self) -> str:
        return f"{self.side} {self.volume_m3} m³ @ {self.price}"

    class Meta:
        verbose_name = _("拍卖报价")
        verbose_name_plural = _("拍卖报价")
        ordering = ["round", "created_at", "id"]
