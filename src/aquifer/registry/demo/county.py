"""The county the demo stands in: its codes, townships, the scenic area and the villages of
the well-closure campaign (what is real and what is invented: :mod:`aquifer.registry.demo`)."""

from __future__ import annotations

__all__ = [
    "CLOSURE_VILLAGES",
    "COUNTY_CODE",
    "DEMO_SEED",
    "HUANGCHENG_XIANGFU",
    "MAX_WELLS",
    "NOTICE",
]

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
