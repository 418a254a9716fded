"""A demo county for ``aquifer demo``: zones, water users, wells, devices and demo accounts.

Everything is generated from a seed, record by record (well ``i`` draws from its own random
stream), so building twice leaves exactly the same data and ``--wells 60`` gives the first 60
wells of ``--wells 600``. Records are matched by a natural key (zone and well code, water-user
name, device kind on a well, username) and saved only when something differs, so a second run
creates nothing and adds nothing to the audit trail (only the accounts' passwords are set
again, to the documented demo password).

What is real and what is invented:

- the 15 townships and their codes are real (NBS); their boundaries are approximate (Voronoi
  cells of the seats, from the data migration);
- the Huangcheng Xiangfu (皇城相府) prohibited zones stand where the scenic area is, in 北留镇,
  as the bureau's notice 阳水字〔2022〕100号 says, but their real boundary was not found: the
  demo draws a circle around the scenic area;
- every other zone is illustrative: no Yangcheng overexploited area is known
  (../shared/reference/standards.md §7);
- the villages are those of the county's 2024 well-closure campaign (凤城镇 and 西河乡), but
  which of the two townships each belongs to is not known: they are split between the two;
- enterprises, cooperatives, people, phone numbers, credit codes and devices are invented.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from django.db import models, transaction
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from stdnum.cn import uscc

from aquifer.core.audit import audit_context
from aquifer.core.geometry import area_km2, parse_polygon
from aquifer.core.models import User
from aquifer.core.roles import Role
from aquifer.registry.choices import (
    AquiferLayer,
    DeviceKind,
    MonitoringNetwork,
    Protocol,
    UseType,
    WellPurpose,
    WellStatus,
    ZoneKind,
)

__all__ = [
    "ACCOUNTS",
    "DEMO_PASSWORD",
    "DEMO_SEED",
    "HUANGCHENG_XIANGFU",
    "build_demo",
    "build_zones",
    "demo_device_secret",
    "organisation_uscc",
    "zone_specs",
]

#: The password of every demo account (printed by ``aquifer demo``; never use in production).
DEMO_PASSWORD = "aquifer-demo"
#: The default seed: the county's division code.
DEMO_SEED = 140522
COUNTY_CODE = "140522"
#: 皇城相府 (standards.md §7: 112.589462 E, 35.519939 N; datum probably GCJ-02).
HUANGCHENG_XIANGFU = (112.5895, 35.5199)
NOTICE = "阳水字〔2022〕100号"
MAX_WELLS = 9999

# Township division codes (standards.md §7).
FENGCHENG, BEILIU, RUNCHENG, DINGDIAN = "140522100", "140522101", "140522102", "140522103"
QINCHI, CIYING, HENGHE, HEBEI = "140522104", "140522105", "140522106", "140522107"
MANGHE, DONGYE, YANLI, BAISANG = "140522108", "140522109", "140522110", "140522111"
SITOU, XIHE, DONGFENG = "140522201", "140522202", "140522205"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Villages and communities of the 2024 well-closure campaign (关井压采), standards.md §7.
CLOSURE_VILLAGES = _words(
    "岳庄 坡底 下川 小窑头 老窑头 荪庄 坪头 南关 东关 西关 水村 鸣凤 下芹 古城 上芹 凤西 山头 "
    "卧庄 会庆 酒庄 中李丘 赵庄 孙沟 上李丘 峪则 王曲 西沟 郭河 阳邑 中寨 陕庄 庄头 北任 崔窊"
)

_GEOD = Geod(ellps="WGS84")
_MAX_PART_LOSS = 0.01


# --- Accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    """One demo login: its role, the township or water user it belongs to, what it sees."""

    username: str
    role: Role
    display_name: str
    sees: str
    township_code: str | None = None
    superuser: bool = False
    water_user: bool = False


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.BUREAU, "系统管理员", "全县全部数据；管理后台", superuser=True),
    DemoAccount("bureau", Role.BUREAU, "县水务局 演示", "全县全部数据"),
    DemoAccount(
        "beiliu",
        Role.TOWNSHIP,
        "北留镇 演示",
        "北留镇的井、用户、设备（皇城相府）",
        township_code=BEILIU,
    ),
    DemoAccount(
        "fengcheng",
        Role.TOWNSHIP,
        "凤城镇 演示",
        "凤城镇的记录（2024年关井压采）",
        township_code=FENGCHENG,
    ),
    DemoAccount(
        "wateruser",
        Role.WATER_USER,
        "取用水户 演示",
        "本单位的取水井和计量设施",
        water_user=True,
    ),
    DemoAccount("inspector", Role.INSPECTOR, "执法人员 演示", "全县只读；检查与案件"),
    DemoAccount("public", Role.PUBLIC, "公众 演示", "公众门户：分区、乡镇、地图"),
)


# --- Identifiers ------------------------------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and their check character."""
    body = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def organisation_uscc(category: str, rng: random.Random) -> str:
    """An invented but valid unified social credit code (GB 32100-2015) registered in the county.

    ``category`` is the registration authority and kind: ``"91"`` enterprise, ``"93"`` farmer
    cooperative, ``"12"`` public institution, ``"54"`` village committee (civil affairs; the
    kind digit 4 for grassroots self-government bodies is used in practice but is not in the
    2015 table we hold [U]). The check character comes from python-stdnum.
    """
    body = category + COUNTY_CODE + _org_code(rng)
    return body + uscc.calc_check_digit(body)


def demo_device_secret(protocol: str, station_address: str) -> str:
    """The secret of a demo device, so that a simulator can authenticate as it.

    SL 651 and SZY 206 passwords are 2 bytes (4 hex digits, protocols.md); MQTT and HTTP
    devices get a 16-hex-digit token. Derived from the address: anyone with the source knows
    them, which is what a demo wants and a real installation must not do.
    """
    digest = hmac.new(b"aquifer-demo-device", station_address.encode(), hashlib.sha256)
    if protocol in (Protocol.SL651, Protocol.SZY206):
        return digest.hexdigest()[:4].upper()
    return digest.hexdigest()[:16]


# --- Geometry helpers -------------------------------------------------------------------------


def _circle(lon: float, lat: float, radius_m: float, n: int = 64) -> Polygon:
    """A geodesic circle of ``radius_m`` metres around a point, as a lon/lat polygon."""
    azimuths = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats, _back = _GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, radius_m))
    return Polygon(zip(lons, lats, strict=True))


def _as_polygon(geom: BaseGeometry) -> Polygon:
    """The single polygon of ``geom`` (dropping slivers), snapped to a 1e-6 degree grid."""
    geom = shapely.set_precision(shapely.make_valid(geom), 1e-6)
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon | MultiPolygon)]
    polys = [p for g in parts for p in getattr(g, "geoms", [g])]
    if not polys:
        raise ValueError("empty demo zone")
    biggest = max(polys, key=lambda p: p.area)
    if geom.area - biggest.area > _MAX_PART_LOSS * geom.area:
        raise ValueError("demo zone falls apart into several polygons")
    # Union of township cells can leave hairline holes along shared edges: drop them.
    holes = [r for r in biggest.interiors if Polygon(r).area > 1e-6 * biggest.area]
    return orient(Polygon(biggest.exterior, holes))


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(mapping(geom)))
    return data


@dataclass(frozen=True)
class ZoneSpec:
    """A demo zone before it is stored."""

    code: str
    name: str
    kind: ZoneKind
    layer: AquiferLayer
    geometry: dict[str, Any]
    allowable_extraction_m3: int
    supervising_township: str | None
    notes: str


# Illustrative exploitable moduli, m³ per km² per year (10⁴ m³ = 1 万m³).
_MODULUS = {
    AquiferLayer.SHALLOW: {
        ZoneKind.NOT_OVEREXPLOITED: 8e4,
        ZoneKind.BALANCED: 6e4,
        ZoneKind.OVEREXPLOITED: 4e4,
        ZoneKind.RESTRICTED: 3e4,
        ZoneKind.PROHIBITED: 0.0,
    },
    AquiferLayer.DEEP: {
        ZoneKind.NOT_OVEREXPLOITED: 3e4,
        ZoneKind.BALANCED: 2e4,
        ZoneKind.OVEREXPLOITED: 1.5e4,
        ZoneKind.RESTRICTED: 1e4,
        ZoneKind.PROHIBITED: 0.0,
    },
}

_ILLUSTRATIVE = (
    "演示数据：示意分区，并非正式划定的范围。阳城县未见已划定的超采区（晋城市两处岩溶水超采区均"
    "不在阳城）。Demo data: an illustrative zone, not a designated one."
)


def zone_specs(county: BaseGeometry, townships: dict[str, BaseGeometry]) -> list[ZoneSpec]:
    """The demo zones of both aquifer layers, clipped to the county outline.

    ``townships`` maps each current township's code to its boundary. Shallow zones cover the
    whole county; deep ones leave the north-west (次营, 河北, 董封) without a zone.
    """
    seat_fc = (112.417, 35.486)

    def union(*codes: str) -> BaseGeometry:
        return shapely.union_all([townships[c] for c in codes], grid_size=1e-6)

    over_s = townships[RUNCHENG].intersection(_circle(112.530, 35.468, 5000))
    shapes: list[tuple[str, str, ZoneKind, AquiferLayer, BaseGeometry, str | None, str]] = [
        (
            "140522-JC-S01",
            "皇城相府景区浅层地下水禁采区",
            ZoneKind.PROHIBITED,
            AquiferLayer.SHALLOW,
            _circle(*HUANGCHENG_XIANGFU, 2000),
            BEILIU,
            "阳水字〔2022〕100号：严禁在皇城相府景区地下水禁采区开采地下水，北留镇人民政府加强"
            "监督管理。实际边界未查到，演示以景区为中心约2公里的示意范围。",
        ),
        (
            "140522-JC-D01",
            "皇城相府景区深层地下水禁采区",
            ZoneKind.PROHIBITED,
            AquiferLayer.DEEP,
            _circle(*HUANGCHENG_XIANGFU, 1600),
            BEILIU,
            "阳水字〔2022〕100号：皇城相府景区地下水禁采区。实际边界未查到，演示以景区为中心约"
            "1.6公里的示意范围。",
        ),
        (
            "140522-XC-S01",
            "县城张峰供水覆盖区浅层限采区",
            ZoneKind.RESTRICTED,
            AquiferLayer.SHALLOW,
            union(FENGCHENG, XIHE).intersection(_circle(*seat_fc, 6000)),
            FENGCHENG,
            "“张峰引水覆盖到哪里，地下水井关停到哪里”：2024年关井压采主要在凤城镇、西河乡。"
            + _ILLUSTRATIVE,
        ),
        (
            "140522-XC-D01",
            "县城深层地下水限采区",
            ZoneKind.RESTRICTED,
            AquiferLayer.DEEP,
            townships[FENGCHENG].intersection(_circle(*seat_fc, 4000)),
            FENGCHENG,
            "深层地下水作为应急和战略储备水源（阳水字〔2022〕100号）。" + _ILLUSTRATIVE,
        ),
        (
            "140522-CC-S01",
            "润城浅层超采区（示意）",
            ZoneKind.OVEREXPLOITED,
            AquiferLayer.SHALLOW,
            over_s,
            RUNCHENG,
            _ILLUSTRATIVE,
        ),
        (
            "140522-CC-D01",
            "北留—润城深层超采区（示意）",
            ZoneKind.OVEREXPLOITED,
            AquiferLayer.DEEP,
            union(BEILIU, RUNCHENG),
            None,
            "煤矿疏干排水区（示意）。" + _ILLUSTRATIVE,
        ),
        (
            "140522-PH-S01",
            "北部浅层采补平衡区",
            ZoneKind.BALANCED,
            AquiferLayer.SHALLOW,
            union(FENGCHENG, XIHE, BEILIU, RUNCHENG, QINCHI, CIYING, DINGDIAN).difference(over_s),
            None,
            "采补平衡区不得再增加新的开采量。" + _ILLUSTRATIVE,
        ),
        (
            "140522-PH-D01",
            "中部深层采补平衡区",
            ZoneKind.BALANCED,
            AquiferLayer.DEEP,
            union(FENGCHENG, XIHE, QINCHI, BAISANG, DINGDIAN),
            None,
            "采补平衡区不得再增加新的开采量。" + _ILLUSTRATIVE,
        ),
        (
            "140522-WC-S01",
            "南部浅层未超采区",
            ZoneKind.NOT_OVEREXPLOITED,
            AquiferLayer.SHALLOW,
            union(HENGHE, HEBEI, MANGHE, DONGYE, YANLI, BAISANG, SITOU, DONGFENG),
            None,
            "未超采区合理开发、科学调控。" + _ILLUSTRATIVE,
        ),
        (
            "140522-WC-D01",
            "南部深层未超采区",
            ZoneKind.NOT_OVEREXPLOITED,
            AquiferLayer.DEEP,
            union(MANGHE, DONGYE, YANLI, SITOU, HENGHE),
            None,
            "未超采区合理开发、科学调控。" + _ILLUSTRATIVE,
        ),
    ]
    specs = []
    for code, name, kind, layer, geom, supervisor, notes in shapes:
        polygon = _as_polygon(geom.intersection(county))
        allowable = round(area_km2(polygon) * _MODULUS[layer][kind], -3)
        specs.append(
            ZoneSpec(code, name, kind, layer, _geojson(polygon), int(allowable), supervisor, notes)
        )
    return specs


# --- Upserts ----------------------------------------------------------------------------------


class _Tally:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.updated: Counter[str] = Counter()

    def upsert(
        self,
        model: type[models.Model],
        existing: models.Model | None,
        key: dict[str, Any],
        values: dict[str, Any],
        before_save: Callable[[Any], None] | None = None,
    ) -> Any:
        """Create the record, or update the fields that differ; save only if needed."""
        name = model._meta.model_name or model.__name__
        if existing is None:
            obj = model(**key, **values)
            if before_save:
                before_save(obj)
            obj.save()
            self.created[name] += 1
            return obj
        changed = [k for k, v in values.items() if getattr(existing, k) != v]
        if changed:
            for k in changed:
                setattr(existing, k, values[k])
            if before_save:
                before_save(existing)
            existing.save()
            self.updated[name] += 1
        return existing


def build_zones(tally: _Tally | None = None) -> list[Any]:
    """Create or update the demo zones; return them in spec order."""
    from aquifer.registry.models import Township, Zone
    from aquifer.registry.spatial import county_geometry

    tally = tally or _Tally()
    by_code = {t.code: t for t in Township.objects.current().exclude(boundary=None)}
    missing = {FENGCHENG, BEILIU, XIHE} - set(by_code)
    if missing:
        raise RuntimeError(
            f"townships {sorted(missing)} are missing: run `aquifer migrate` first "
            "(a data migration loads them)"
        )
    geoms = {c: parse_polygon(t.boundary) for c, t in by_code.items()}
    existing = {z.code: z for z in Zone.objects.all()}
    zones = []
    for spec in zone_specs(county_geometry(), geoms):
        values = {
            "name": spec.name,
            "kind": str(spec.kind),
            "layer": str(spec.layer),
            "geometry": spec.geometry,
            "allowable_extraction_m3": spec.allowable_extraction_m3,
            "designation_document": NOTICE,
            "supervising_township_id": (
                by_code[spec.supervising_township].pk if spec.supervising_township else None
            ),
            "notes": spec.notes,
        }
        zones.append(
            tally.upsert(
                Zone,
                existing.get(spec.code),
                {"code": spec.code},
                values,
                before_save=lambda z: z.full_clean(),
            )
        )
    return zones


# --- Water users ------------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
_GIVEN = _words("建国 志强 秀英 丽华 海军 红梅 晓东 文斌 春生 玉兰 国庆 永刚 俊峰 桂芳 晋龙 卫东")
_WORDS = _words("丰源 惠农 绿源 兴农 金穗 宏达 鑫源 兴盛 永安 泰丰 华晟 瑞丰 晋阳 恒通 康源 润泽")
_COAL_TOWNS = (BEILIU, RUNCHENG, DINGDIAN, QINCHI, SITOU, BAISANG, DONGYE, CIYING)
_INDUSTRY = (
    ("陶瓷有限公司", RUNCHENG),
    ("建材有限公司", BAISANG),
    ("琉璃制品有限公司", FENGCHENG),
    ("食品有限公司", XIHE),
    ("铸造有限公司", DINGDIAN),
    ("耐火材料有限公司", BEILIU),
    ("水泥制品有限公司", YANLI),
    ("酿造有限公司", QINCHI),
)
_SERVICE = (
    ("宾馆有限公司", FENGCHENG),
    ("洗车服务部", FENGCHENG),
    ("皇城旅游服务有限公司", BEILIU),
    ("农家乐餐饮有限公司", BEILIU),
    ("温泉度假有限公司", MANGHE),
)
_ECOLOGICAL = (MANGHE, HENGHE, DONGYE, SITOU)


@dataclass(frozen=True)
class UserSpec:
    name: str
    uscc: str
    use_type: UseType
    township: str
    address: str
    contact_person: str
    phone: str
    village_committee: bool = False


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return f"0356-{rng.randint(4000000, 4999999)}"
    return f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"


def user_specs(seed: int, township_names: dict[str, str]) -> list[UserSpec]:
    """The demo water users (organisations with a credit code, and a few farmers without)."""
    specs: list[UserSpec] = []
    farmers: set[str] = set()

    def add(
        name: str,
        category: str | None,
        use: UseType,
        town: str,
        place: str = "",
        village: bool = False,
    ) -> None:
        rng = random.Random(f"{seed}:user:{name}")
        code = organisation_uscc(category, rng) if category else ""
        address = f"山西省晋城市阳城县{township_names[town]}{place}"
        contact = _person(rng) if category else name  # a farmer answers for himself
        specs.append(UserSpec(name, code, use, town, address, contact, _phone(rng), village))

    for n, village in enumerate(CLOSURE_VILLAGES):
        # Which of the two townships each village is in is not known (module docstring).
        town = FENGCHENG if n % 2 == 0 else XIHE
        place = village if village.endswith("村") else village + "村"
        use = UseType.DOMESTIC if n % 3 else UseType.AGRICULTURAL
        add(f"{place}村民委员会", "54", use, town, place, village=True)
    add("皇城村村民委员会", "54", UseType.DOMESTIC, BEILIU, "皇城村", village=True)
    add("阳城县城区供水有限公司", "91", UseType.DOMESTIC, FENGCHENG)
    add("阳城县城区园林绿化服务中心", "12", UseType.ECOLOGICAL, FENGCHENG)

    rng = random.Random(f"{seed}:names")
    words = list(_WORDS)
    rng.shuffle(words)
    for n, town in enumerate(_COAL_TOWNS):
        short = township_names[town][:-1]
        add(f"山西阳城{short}{words[n]}煤业有限公司", "91", UseType.INDUSTRIAL, town)
    for n, (suffix, town) in enumerate(_INDUSTRY):
        add(f"阳城县{words[(n + 5) % len(words)]}{suffix}", "91", UseType.INDUSTRIAL, town)
    for n, (suffix, town) in enumerate(_SERVICE):
        add(f"阳城县{words[(n + 9) % len(words)]}{suffix}", "91", UseType.SERVICE, town)
    for town in _ECOLOGICAL:
        add(f"阳城县{township_names[town]}生态林场", "12", UseType.ECOLOGICAL, town)
    for town, tname in sorted(township_names.items()):
        short = tname[:-1]
        add(f"阳城县{tname}集中供水站", "12", UseType.DOMESTIC, town)
        trng = random.Random(f"{seed}:coop:{town}")
        w1, w2 = trng.sample(_WORDS, 2)
        add(f"阳城县{short}{w1}种植专业合作社", "93", UseType.AGRICULTURAL, town)
        add(f"阳城县{short}{w2}农机专业合作社", "93", UseType.AGRICULTURAL, town)
        for _ in range(2):  # farmers: names are the key, so no two alike
            name = _person(trng)
            while name in farmers:
                name = _person(trng)
            farmers.add(name)
            add(name, None, UseType.AGRICULTURAL, town)
    assert len({s.name for s in specs}) == len(specs), "demo water-user names must be unique"
    return specs


# --- Wells ------------------------------------------------------------------------------------

_SEAT_WEIGHT = {FENGCHENG: 3.0, XIHE: 2.0, BEILIU: 2.0, RUNCHENG: 1.5}
_PURPOSE_OF = {
    UseType.DOMESTIC: WellPurpose.DOMESTIC,
    UseType.AGRICULTURAL: WellPurpose.AGRICULTURAL,
    UseType.INDUSTRIAL: WellPurpose.INDUSTRIAL,
    UseType.ECOLOGICAL: WellPurpose.ECOLOGICAL,
    UseType.SERVICE: WellPurpose.SERVICE,
}
_DEEP_SHARE = {
    UseType.DOMESTIC: 0.35,
    UseType.AGRICULTURAL: 0.1,
    UseType.INDUSTRIAL: 0.5,
    UseType.ECOLOGICAL: 0.05,
    UseType.SERVICE: 0.3,
}


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _random_point(
    rng: random.Random, county: BaseGeometry, seats: dict[str, tuple[float, float]], kind: str
) -> tuple[float, float]:
    """A point inside the county: near Huangcheng, near a township seat, or anywhere."""
    minx, miny, maxx, maxy = county.bounds
    weights = {c: _SEAT_WEIGHT.get(c, 1.0) for c in seats}
    seat = seats[_pick(rng, weights)]
    for _ in range(1000):
        if kind == "huangcheng":
            lon = rng.gauss(HUANGCHENG_XIANGFU[0], 0.01)
            lat = rng.gauss(HUANGCHENG_XIANGFU[1], 0.008)
        elif kind == "seat":
            lon, lat = rng.gauss(seat[0], 0.035), rng.gauss(seat[1], 0.028)
        else:
            lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        lon, lat = round(lon, 6), round(lat, 6)
        if county.contains(Point(lon, lat)):
            return lon, lat
    raise RuntimeError("could not place a demo well inside the county")  # pragma: no cover


def _status(rng: random.Random, zone_kind: str | None, campaign: bool) -> tuple[str, str]:
    """A well's status and a note saying why it is closed, if it is."""
    if zone_kind == ZoneKind.PROHIBITED:
        status = WellStatus.SEALED if rng.random() < 0.6 else WellStatus.CLOSED
        return status, "位于皇城相府景区地下水禁采区，已停止取水（只封不填）。"
    if campaign:
        status = _pick(
            rng,
            {
                WellStatus.ACTIVE: 0.45,
                WellStatus.STANDBY: 0.05,
                WellStatus.CLOSED: 0.2,
                WellStatus.SEALED: 0.3,
            },
        )
        if status in (WellStatus.CLOSED, WellStatus.SEALED):
            return status, "2024年关井压采：张峰水置换后关停（只封不填）。"
        return status, ""
    status = _pick(
        rng,
        {
            WellStatus.ACTIVE: 0.78,
            WellStatus.STANDBY: 0.08,
            WellStatus.CLOSED: 0.05,
            WellStatus.SEALED: 0.03,
            WellStatus.PLANNED: 0.06,
        },
    )
    return status, ""


def _date(rng: random.Random, first: int, last: int) -> dt.date:
    start = dt.date(first, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randint(start, dt.date(last, 12, 31).toordinal()))


@dataclass
class _WellPlan:
    values: dict[str, Any]
    monitoring: dict[str, Any] | None
    devices: list[dict[str, Any]]


def _plan_well(
    i: int,
    seed: int,
    county: BaseGeometry,
    seats: dict[str, tuple[float, float]],
    index: Any,
    zone_kinds: dict[int, str],
    users_by_town: dict[int, list[Any]],
    towns_by_pk: dict[int, Any],
) -> _WellPlan:
    """Everything about well ``i``, drawn from its own random stream."""
    rng = random.Random(f"{seed}:well:{i}")
    is_monitoring = i % 12 == 6
    kind = "huangcheng" if i % 40 == 3 else ("seat" if rng.random() < 0.6 else "anywhere")
    lon, lat = _random_point(rng, county, seats, "anywhere" if is_monitoring else kind)
    township_id = index.townships.assign_one(lon, lat, nearest=True)
    town = towns_by_pk[township_id]

    owner = None
    if is_monitoring:
        layer = AquiferLayer.DEEP if rng.random() < 0.3 else AquiferLayer.SHALLOW
        purpose = WellPurpose.MONITORING
    else:
        candidates = users_by_town.get(township_id) or [
            u for us in users_by_town.values() for u in us
        ]
        owner = rng.choice(candidates)
        use = UseType(owner.use_type)
        layer = AquiferLayer.DEEP if rng.random() < _DEEP_SHARE[use] else AquiferLayer.SHALLOW
        purpose = _PURPOSE_OF[use]
        if rng.random() < 0.04:
            purpose = WellPurpose.EMERGENCY
    zone_id = index.zones.assign_one(lon, lat, group=str(layer))
    zone_kind = zone_kinds.get(zone_id) if zone_id is not None else None  # None: no zone
    campaign = (
        town.code in (FENGCHENG, XIHE)
        and owner is not None
        and owner.use_type in (UseType.DOMESTIC, UseType.AGRICULTURAL, UseType.SERVICE)
    )
    status: str
    if is_monitoring:
        status, note = WellStatus.ACTIVE, ""
    else:
        status, note = _status(rng, zone_kind, campaign)
    if purpose == WellPurpose.EMERGENCY and status == WellStatus.ACTIVE:
        status = WellStatus.STANDBY
    if layer == AquiferLayer.SHALLOW:
        depth = rng.uniform(30, 150)
        drilled = _date(rng, 1985, 2020)
    else:
        depth = rng.uniform(300, 900)
        drilled = _date(rng, 2000, 2022)
    layer_name = "浅层" if layer == AquiferLayer.SHALLOW else "深层"
    name = f"{town.name}{layer_name}监测井{i}" if is_monitoring else f"{town.name}{i}号井"
    values = {
        "name": name,
        "lon": lon,
        "lat": lat,
        "input_crs": 4326,
        "input_x": lon,
        "input_y": lat,
        "depth_m": Decimal(f"{depth:.1f}"),
        "layer": str(layer),
        "purpose": str(purpose),
        "status": str(status),
        "owner_id": owner.pk if owner else None,
        "drilled_on": None if status == WellStatus.PLANNED else drilled,
        "notes": ("演示数据（虚构）。" + note).strip(),
    }

    monitoring = None
    devices: list[dict[str, Any]] = []
    installed = _date(rng, 2019, 2024)
    if is_monitoring:
        quality = i % 36 == 6
        level = not (quality and i % 72 == 6)
        monitoring = {
            "monitors_level": level,
            "monitors_quality": quality,
            "network": str(
                _pick(
                    rng,
                    {
                        MonitoringNetwork.NATIONAL: 0.1,
                        MonitoringNetwork.PROVINCIAL: 0.25,
                        MonitoringNetwork.COUNTY: 0.65,
                    },
                )
            ),
            "warning_depth_m": Decimal(f"{depth * rng.uniform(0.35, 0.6):.1f}"),
            "established_on": _date(rng, 2005, 2022),
        }
        if level:
            protocol = Protocol.SL651 if rng.random() < 0.75 else Protocol.SZY206
            devices.append(
                {
                    "kind": str(DeviceKind.LEVEL_LOGGER),
                    "protocol": str(protocol),
                    "station_address": f"{COUNTY_CODE}{i:04d}",
                    "reporting_interval_min": 60,
                    "model_name": "投入式压力水位计",
                    "serial_number": f"WL{seed % 1000:03d}{i:05d}",
                    "installed_on": installed,
                    "active": True,
                }
            )
        if quality:
            protocol = Protocol.MQTT if rng.random() < 0.5 else Protocol.HTTP
            devices.append(
                {
                    "kind": str(DeviceKind.QUALITY_SONDE),
                    "protocol": str(protocol),
                    "station_address": f"yc-wq-{i:04d}",
                    "reporting_interval_min": 240,
                    "model_name": "多参数水质仪",
                    "serial_number": f"WQ{seed % 1000:03d}{i:05d}",
                    "installed_on": installed,
                    "active": True,
                }
            )
    elif status != WellStatus.PLANNED:
        metered = rng.random() < (
            0.88 if status in (WellStatus.ACTIVE, WellStatus.STANDBY) else 0.5
        )
        if metered:
            protocol = _pick(
                rng,
                {
                    Protocol.SL651: 0.55,
                    Protocol.SZY206: 0.35,
                    Protocol.MQTT: 0.06,
                    Protocol.HTTP: 0.04,
                },
            )
            address = (
                f"{COUNTY_CODE}{i:04d}"
                if protocol in (Protocol.SL651, Protocol.SZY206)
                else f"yc-{str(protocol).lower()}-{i:04d}"
            )
            devices.append(
                {
                    "kind": str(DeviceKind.FLOW_METER),
                    "protocol": str(protocol),
                    "station_address": address,
                    "reporting_interval_min": rng.choice((5, 15, 15, 30, 60)),
                    "model_name": rng.choice(
                        ("电磁流量计 DN100", "超声波水表 DN80", "电磁流量计 DN150")
                    ),
                    "serial_number": f"FM{seed % 1000:03d}{i:05d}",
                    "installed_on": installed,
                    "active": status in (WellStatus.ACTIVE, WellStatus.STANDBY),
                }
            )
    return _WellPlan(values, monitoring, devices)


# --- Build ------------------------------------------------------------------------------------


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_demo(
    wells: int = 600,
    seed: int = DEMO_SEED,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build (or refresh) the demo county on the configured database.

    Needs the migrations applied (townships come from a data migration). Returns the number
    of records of each kind in the database afterwards, and what this run created and updated.
    """
    from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well
    from aquifer.registry.spatial import county_geometry, spatial_index

    if not 1 <= wells <= MAX_WELLS:
        raise ValueError(f"wells must be between 1 and {MAX_WELLS}")
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    tally = _Tally()
    county = county_geometry()

    with transaction.atomic(), audit_context(source="demo", reason="aquifer demo"):
        say("zones")
        zones = build_zones(tally)

        towns = {t.code: t for t in Township.objects.current()}
        names_by_code = {c: t.name for c, t in towns.items()}
        say("water users")
        existing_users = {u.name: u for u in WaterUser.objects.all()}
        users = []
        for spec in user_specs(seed, names_by_code):
            values = {
                "uscc": spec.uscc,
                "use_type": str(spec.use_type),
                "township_id": towns[spec.township].pk,
                "address": spec.address,
                "contact_person": spec.contact_person,
                "phone": spec.phone,
            }
            users.append(
                tally.upsert(
                    WaterUser,
                    existing_users.get(spec.name),
                    {"name": spec.name},
                    values,
                    before_save=lambda u: u.full_clean(),
                )
            )
        users_by_town: dict[int, list[Any]] = defaultdict(list)
        for u in users:
            users_by_town[u.township_id].append(u)

        say("wells")
        index = spatial_index()
        zone_kinds = {z.pk: z.kind for z in zones}
        seats = {
            c: (t.seat_lon, t.seat_lat)
            for c, t in towns.items()
            if t.seat_lon is not None and t.seat_lat is not None
        }
        towns_by_pk = {t.pk: t for t in towns.values()}
        plans = [
            _plan_well(i, seed, county, seats, index, zone_kinds, users_by_town, towns_by_pk)
            for i in range(1, wells + 1)
        ]
        codes = [f"{COUNTY_CODE}-W{i:04d}" for i in range(1, wells + 1)]
        existing_wells: dict[str, Any] = {}
        for chunk in _chunks(codes, 500):
            existing_wells.update({w.code: w for w in Well.objects.filter(code__in=chunk)})
        well_objs = []
        for code, plan in zip(codes, plans, strict=True):
            well_objs.append(
                tally.upsert(Well, existing_wells.get(code), {"code": code}, plan.values)
            )

        say("monitoring wells and devices")
        ids = [w.pk for w in well_objs]
        existing_mon: dict[int, Any] = {}
        existing_dev: dict[tuple[int | None, str], Any] = {}
        for chunk in _chunks(ids, 500):
            existing_mon.update(
                {m.well_id: m for m in MonitoringWell.objects.filter(well_id__in=chunk)}
            )
            existing_dev.update(
                {(d.well_id, d.kind): d for d in Device.objects.filter(well_id__in=chunk)}
            )
        for well, plan in zip(well_objs, plans, strict=True):
            if plan.monitoring is not None:
                tally.upsert(
                    MonitoringWell, existing_mon.get(well.pk), {"well_id": well.pk}, plan.monitoring
                )
            for dev_spec in plan.devices:
                values = {k: v for k, v in dev_spec.items() if k != "kind"}

                def prepare(device: Any) -> None:
                    device.full_clean()
                    if not device.secret_hash:
                        device.set_secret(
                            demo_device_secret(device.protocol, device.station_address)
                        )

                tally.upsert(
                    Device,
                    existing_dev.get((well.pk, dev_spec["kind"])),
                    {"well_id": well.pk, "kind": dev_spec["kind"]},
                    values,
                    before_save=prepare,
                )

        say("accounts")
        owner_counts = Counter(w.owner_id for w in well_objs if w.owner_id is not None)
        orgs = {u.pk: u for u in users if u.uscc}
        account_user = max(
            (u for u in orgs.values() if owner_counts[u.pk]),
            key=lambda u: (owner_counts[u.pk], u.name),
        )
        for acc in ACCOUNTS:
            user, _created = User.objects.update_or_create(
                username=acc.username,
                defaults={
                    "role": str(acc.role),
                    "first_name": acc.display_name,
                    "is_staff": acc.superuser,
                    "is_superuser": acc.superuser,
                    "is_active": True,
                    "township_id": towns[acc.township_code].pk if acc.township_code else None,
                    "water_user_id": account_user.pk if acc.water_user else None,
                },
            )
            user.full_clean(exclude=["password"])
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])

    summary: dict[str, Any] = {
        "townships": Township.objects.current().count(),
        "zones": len(zones),
        "water_users": WaterUser.objects.count(),
        "wells": Well.objects.count(),
        "demo_wells": wells,
        "monitoring_wells": MonitoringWell.objects.count(),
        "devices": Device.objects.count(),
        "accounts": User.objects.filter(username__in=[a.username for a in ACCOUNTS]).count(),
        "water_user_account": account_user.name,
        "created": dict(tally.created),
        "updated": dict(tally.updated),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return summary
