"""The demo water users: organisations with a credit code, and a few farmers without."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from aquifer.registry.choices import UseType
from aquifer.registry.demo.county import (
    BAISANG,
    BEILIU,
    CIYING,
    CLOSURE_VILLAGES,
    DINGDIAN,
    DONGYE,
    FENGCHENG,
    HENGHE,
    MANGHE,
    QINCHI,
    RUNCHENG,
    SITOU,
    XIHE,
    YANLI,
    _words,
)
from aquifer.registry.demo.identifiers import organisation_uscc
from aquifer.registry.demo.tally import _Tally
from aquifer.registry.models import WaterUser

__all__ = ["UserSpec", "build_users", "user_specs"]

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


def build_users(tally: _Tally, seed: int, towns: dict[str, Any]) -> list[Any]:
    """Create or update the demo water users; return them in spec order."""
    names_by_code = {c: t.name for c, t in towns.items()}
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
    return users
