"""The engine's vocabulary: change kinds, water sources, zone kinds, declared flags and rule ids."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["REGISTER", "ChangeKind", "Flag", "RuleId", "Source", "ZoneKind"]


class ChangeKind(StrEnum):
    """What a change does to the permit register."""

    NEW_PERMIT = "new_permit"  # 新增取水许可
    QUOTA_INCREASE = "quota_increase"  # 增加许可水量
    QUOTA_DECREASE = "quota_decrease"  # 核减许可水量
    RENEWAL = "renewal"  # 延续
    TRANSFER = "transfer"  # 水权交易转让水量
    WELL_ACTIVATION = "well_activation"  # 取水井启用


class Source(StrEnum):
    """The water a permit draws (values match ``registry.choices.AquiferLayer`` for groundwater)."""

    SHALLOW = "shallow"  # 浅层地下水
    DEEP = "deep"  # 深层地下水
    SURFACE = "surface"  # 地表水


class ZoneKind(StrEnum):
    """Zone kinds; the values are those of ``registry.choices.ZoneKind``."""

    NOT_OVEREXPLOITED = "not_overexploited"
    BALANCED = "balanced"
    OVEREXPLOITED = "overexploited"
    PROHIBITED = "prohibited"
    RESTRICTED = "restricted"


class Flag(StrEnum):
    """Circumstances a change declares explicitly; exemptions are keyed by them."""

    DOMESTIC = "domestic"  # 生活用水 (only with use type "domestic")
    EMERGENCY_SAFETY = "emergency_safety"  # 地下工程施工或安全生产临时应急取（排）水
    PUBLIC_SAFETY = "public_safety"  # 消除公共安全隐患临时应急取水
    MONITORING_TEST = "monitoring_test"  # 监测、勘探、试验少量取水
    WATER_RIGHTS_TRADE = "water_rights_trade"  # 水量经水权交易取得
    POVERTY_ALLEVIATION = "poverty_alleviation"  # 脱贫攻坚项目
    EMERGENCY_SUPPLY = "emergency_supply"  # 应急供水取水 (地下水管理条例 第二十七条第一项)
    NO_ALTERNATIVE_SOURCE = "no_alternative_source"  # 无替代水源地区的居民生活用水 (同条第二项)
    # A fact, not an exemption: the water irrigates illegally reclaimed land (declared by the
    # application, confirmed by the reviewer; 地下水管理条例 第二十五条).
    ILLEGALLY_RECLAIMED_LAND = "illegally_reclaimed_land"


class RuleId(StrEnum):
    """The rules' ids (stable: stored with decisions)."""

    PROHIBITED_ZONE = "prohibited_zone"
    RESTRICTED_ZONE = "restricted_zone"
    BALANCED_ZONE = "balanced_zone"
    OVEREXPLOITED_ZONE = "overexploited_zone"
    YELLOW_RIVER_OVERLOADED = "yellow_river_overloaded"
    DEEP_EMERGENCY_ONLY = "deep_emergency_only"
    COUNTY_CAP = "county_cap"
    TOWNSHIP_CAP = "township_cap"
    PERMIT_TERM = "permit_term"
    PUBLIC_SUPPLY = "public_supply"
    HARD_TO_RENEW = "hard_to_renew"
    ILLEGAL_RECLAMATION = "illegal_reclamation"


#: The checks that keep a change consistent with the register; always on, not a setting.
REGISTER = "register"

_GROUNDWATER = frozenset({Source.SHALLOW, Source.DEEP})
_ALL_KINDS = frozenset(ChangeKind)
_EXTRACTING = frozenset(ChangeKind) - {ChangeKind.QUOTA_DECREASE}
