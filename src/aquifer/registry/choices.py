"""Choice sets of the registry (code name — 中文, as in DESIGN.md's glossary)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TownshipKind(models.TextChoices):
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    OTHER = "other", _("其他")


class ZoneKind(models.TextChoices):
    NOT_OVEREXPLOITED = "not_overexploited", _("未超采区")
    BALANCED = "balanced", _("采补平衡区")
    OVEREXPLOITED = "overexploited", _("超采区")
    PROHIBITED = "prohibited", _("禁采区")
    RESTRICTED = "restricted", _("限采区")


#: Where zones of one aquifer layer overlap, the stricter decides a well's zone (lower wins).
ZONE_PRECEDENCE: dict[str, int] = {
    ZoneKind.PROHIBITED: 0,
    ZoneKind.RESTRICTED: 1,
    ZoneKind.OVEREXPLOITED: 2,
    ZoneKind.BALANCED: 3,
    ZoneKind.NOT_OVEREXPLOITED: 4,
}

#: Map colours for zone kinds (also used in the legend).
ZONE_COLOURS: dict[str, str] = {
    ZoneKind.NOT_OVEREXPLOITED: "#4daf4a",
    ZoneKind.BALANCED: "#377eb8",
    ZoneKind.OVEREXPLOITED: "#ff7f00",
    ZoneKind.PROHIBITED: "#e41a1c",
    ZoneKind.RESTRICTED: "#984ea3",
}


class AquiferLayer(models.TextChoices):
    SHALLOW = "shallow", _("浅层")
    DEEP = "deep", _("深层")


class UseType(models.TextChoices):
    DOMESTIC = "domestic", _("生活")
    AGRICULTURAL = "agricultural", _("农业")
    INDUSTRIAL = "industrial", _("工业")
    ECOLOGICAL = "ecological", _("生态")
    SERVICE = "service", _("服务业")


class WellPurpose(models.TextChoices):
    DOMESTIC = "domestic", _("生活")
    AGRICULTURAL = "agricultural", _("农业灌溉")
    INDUSTRIAL = "industrial", _("工业")
    ECOLOGICAL = "ecological", _("生态")
    SERVICE = "service", _("服务业")
    MONITORING = "monitoring", _("监测")
    EMERGENCY = "emergency", _("应急备用")


class WellStatus(models.TextChoices):
    PLANNED = "planned", _("规划")
    ACTIVE = "active", _("在用")
    STANDBY = "standby", _("备用")
    CLOSED = "closed", _("关停")
    SEALED = "sealed", _("封存")


#: The well lifecycle: from each status, the statuses it may move to. A sealed well
#: (封存: sealed, not backfilled — the county's 只封不填 rule) stays sealed.
WELL_TRANSITIONS: dict[str, frozenset[str]] = {
    WellStatus.PLANNED: frozenset({WellStatus.ACTIVE, WellStatus.CLOSED}),
    WellStatus.ACTIVE: frozenset({WellStatus.STANDBY, WellStatus.CLOSED}),
    WellStatus.STANDBY: frozenset({WellStatus.ACTIVE, WellStatus.CLOSED}),
    WellStatus.CLOSED: frozenset({WellStatus.ACTIVE, WellStatus.SEALED}),
    WellStatus.SEALED: frozenset(),
}

WELL_STATUS_COLOURS: dict[str, str] = {
    WellStatus.PLANNED: "#9e9e9e",
    WellStatus.ACTIVE: "#1a9641",
    WellStatus.STANDBY: "#fdae61",
    WellStatus.CLOSED: "#d7191c",
    WellStatus.SEALED: "#2b2b2b",
}


class DeviceKind(models.TextChoices):
    FLOW_METER = "flow_meter", _("流量计")
    LEVEL_LOGGER = "level_logger", _("水位计")
    QUALITY_SONDE = "quality_sonde", _("水质仪")
    RTU = "rtu", _("遥测终端")


class Protocol(models.TextChoices):
    SL651 = "SL651", _("SL 651-2014")
    SZY206 = "SZY206", _("SZY 206-2016")
    MQTT = "MQTT", _("MQTT")
    HTTP = "HTTP", _("HTTP")


class MonitoringNetwork(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省级")
    COUNTY = "county", _("县级")
