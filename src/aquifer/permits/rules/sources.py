"""Where the rules come from: :class:`SourceRef` (a document and an article, confirmed or
not), the sources the default rules cite, and their dict form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["SourceRef"]


@dataclass(frozen=True)
class SourceRef:
    """Where a rule comes from: a document and an article, confirmed against its text or not."""

    document: str
    article: str = ""
    confirmed: bool = True

    def __str__(self) -> str:
        text = f"{self.document} {self.article}".strip()
        return text if self.confirmed else f"{text} [未核实 unconfirmed]"


# Sources, once.
GW_REG_17 = SourceRef("地下水管理条例", "第十七条")
GW_REG_20 = SourceRef("地下水管理条例", "第二十条")
GW_REG_15 = SourceRef("地下水管理条例", "第十五条")
GW_REG_35 = SourceRef("地下水管理条例", "第三十五条")
GW_REG_25 = SourceRef("地下水管理条例", "第二十五条")
GW_REG_27 = SourceRef("地下水管理条例", "第二十七条")
PERMIT_REG_20_5 = SourceRef("取水许可和水资源费征收管理条例", "第二十条第五项")
PERMIT_REG_20_1 = SourceRef("取水许可和水资源费征收管理条例", "第二十条第一项")
PERMIT_REG_20_2 = SourceRef("取水许可和水资源费征收管理条例", "第二十条第二项")
PERMIT_REG_24 = SourceRef("取水许可和水资源费征收管理条例", "第二十四条")
PERMIT_REG_25 = SourceRef("取水许可和水资源费征收管理条例", "第二十五条")
PERMIT_REG_27 = SourceRef("取水许可和水资源费征收管理条例", "第二十七条")
YR_NOTICE = SourceRef("水资管〔2020〕380号", "", confirmed=False)  # number unconfirmed
YR_SHANXI = SourceRef("晋水资源〔2020〕162号", "", confirmed=False)  # cited by the charter only
CHARTER = SourceRef("阳水字〔2022〕100号", "二(二)")
CHARTER_DEEP = SourceRef("阳水字〔2022〕100号", "二(一)")
SHANXI_2015 = SourceRef("晋政办发〔2015〕123号", "(阳水字〔2022〕100号 引)")


def _source_to_dict(s: SourceRef) -> dict[str, Any]:
    return {"document": s.document, "article": s.article, "confirmed": s.confirmed}


def _source_from_dict(d: Mapping[str, Any]) -> SourceRef:
    return SourceRef(str(d["document"]), str(d.get("article", "")), bool(d.get("confirmed", True)))
