"""The rule engine's reasons as sentences in the reader's language.

A stored decision (``rules.Decision.to_dict()``, on an application or a :class:`RuleDecision`)
keeps each reason's message ``code`` and ``params``; :func:`reason_text` renders them with
gettext at display time, so an English reader reads English and a Chinese reader Chinese.
Decisions stored before codes existed fall back to their ready ``en`` / ``zh`` text. Rule ids
are shown through :data:`RULE_TITLES`, never raw.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from aquifer.registry.models import Township, Zone

HAN_RE = re.compile(r"[\u3400-\u9fff]")

#: Short titles of the rules (and of the reasons that are not rules).
RULE_TITLES: dict[str, Any] = {
    "prohibited_zone": gettext_lazy("禁采区"),
    "restricted_zone": gettext_lazy("限采区"),
    "balanced_zone": gettext_lazy("采补平衡区"),
    "overexploited_zone": gettext_lazy("超采区"),
    "yellow_river_overloaded": gettext_lazy("黄河流域超载地区"),
    "deep_emergency_only": gettext_lazy("深层地下水应急取用"),
    "county_cap": gettext_lazy("县级总量控制"),
    "township_cap": gettext_lazy("乡镇许可指标"),
    "permit_term": gettext_lazy("许可有效期"),
    "public_supply": gettext_lazy("公共供水管网覆盖"),
    "hard_to_renew": gettext_lazy("难以更新的地下水"),
    "illegal_reclamation": gettext_lazy("非法开垦土地灌溉"),
    "register": gettext_lazy("许可登记"),
    "bureau": gettext_lazy("许可机关决定"),
}

#: Message code → sentence (named %-placeholders: the reason's params).
MESSAGES: dict[str, Any] = {
    "prohibited_zone": gettext_lazy("禁采区 %(zone)s 内禁止取用地下水。"),
    "restricted_zone": gettext_lazy("限采区 %(zone)s 内不得新增取用地下水。"),
    "overexploited_zone": gettext_lazy("超采区 %(zone)s 内不得新增取用地下水。"),
    "balanced_zone": gettext_lazy("采补平衡区 %(zone)s 的许可总量将增加 %(delta)s m³/年。"),
    "yellow_river_overloaded": gettext_lazy("位于黄河流域超载地区，暂停新增取水许可。"),
    "deep_emergency_only": gettext_lazy("%(date)s 不在已宣布的应急期内，不得取用深层地下水。"),
    "county_cap": gettext_lazy("全县许可总量将达 %(total)s m³/年，超过控制指标 %(cap)s m³/年。"),
    "township_cap": gettext_lazy("乡镇许可总量超过分配指标：%(over)s。"),
    "permit_term": gettext_lazy("有效期 %(term)s 年，应为1至%(max)s年。"),
    "public_supply": gettext_lazy(
        "位于已通水的公共供水管网覆盖范围内，管网能够满足用水需要，不批准自备地下水取水。"
    ),
    "hard_to_renew": gettext_lazy("分区 %(zone)s 为难以更新的地下水，禁止开采。"),
    "illegal_reclamation": gettext_lazy("申请用于非法开垦土地灌溉，不予许可。"),
    "emergency_window": gettext_lazy("依应急期 #%(window)s 批准：随应急期结束而终止（%(ends)s）。"),
    "register.permit_exists": gettext_lazy("该许可证已存在。"),
    "register.no_permit": gettext_lazy("许可证不存在。"),
    "register.source_mismatch": gettext_lazy("水源与许可证不符。"),
    "register.location_mismatch": gettext_lazy("乡镇或分区与许可证不符。"),
    "register.decrease_exceeds": gettext_lazy("核减水量超过许可水量。"),
    "register.transfer_source": gettext_lazy("转让方许可证不存在或与受让方相同。"),
    "register.transfer_exceeds": gettext_lazy("转让水量超过转让方许可水量。"),
    "register.transfer_sources_differ": gettext_lazy("转让双方水源不同。"),
    "register.well_layer_mismatch": gettext_lazy("井的含水层与许可证水源不符。"),
    "register.well_no_permit": gettext_lazy("该井没有有效的取水许可证。"),
    "bureau": gettext_lazy("许可机关不予许可：%(note)s"),
    "exemption": gettext_lazy("依豁免情形“%(flag)s”临时许可：情形消除后应立即停止取水。"),
    "exemption.yellow_river": gettext_lazy(
        "依豁免情形“%(flag)s”批准：须严格水资源论证，报省级审批并于10个工作日内报黄委备案。"
    ),
}

#: The exemption flags' names (rules.Flag values).
FLAG_NAMES: dict[str, Any] = {
    "domestic": gettext_lazy("生活用水"),
    "emergency_safety": gettext_lazy("地下工程施工或安全生产临时应急取（排）水"),
    "public_safety": gettext_lazy("消除公共安全隐患临时应急取水"),
    "monitoring_test": gettext_lazy("监测、勘探、试验少量取水"),
    "water_rights_trade": gettext_lazy("水量经水权交易取得"),
    "poverty_alleviation": gettext_lazy("脱贫攻坚项目"),
    "emergency_supply": gettext_lazy("应急供水取水"),
    "no_alternative_source": gettext_lazy("无替代水源地区的居民生活用水"),
    "illegally_reclaimed_land": gettext_lazy("用于非法开垦土地灌溉"),
}


def _zone_name(code: str) -> str:
    name = Zone.objects.filter(code=code).values_list("name", flat=True).first()
    return f"{name}（{code}）" if name else code


def _township_names(codes: Iterable[str]) -> dict[str, str]:
    return dict(Township.objects.filter(code__in=list(codes)).values_list("code", "name"))


def _params(code: str, params: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if out.get("zone"):
        out["zone"] = _zone_name(str(out["zone"]))
    if "flag" in out:
        out["flag"] = str(FLAG_NAMES.get(str(out["flag"]), out["flag"]))
    if code == "emergency_window" and not out.get("ends"):
        out["ends"] = _("水务局宣布结束时")
    if code == "township_cap":
        rows = list(out.get("over") or [])
        names = _township_names(str(r[0]) for r in rows)
        out["over"] = "; ".join(
            _("%(town)s %(total)s m³/年 > %(cap)s m³/年")
            % {"town": names.get(str(t), t), "total": a, "cap": c}
            for t, a, c in rows
        )
    return out


def reason_text(reason: Mapping[str, Any]) -> str:
    """One reason (a dict of ``Decision.to_dict()``) as a sentence in the current language."""
    code = str(reason.get("code") or "")
    template = MESSAGES.get(code)
    if template is not None and "params" in reason:
        try:
            return str(template) % _params(code, reason.get("params") or {})
        except (KeyError, TypeError, ValueError):
            pass
    english = (get_language() or "").startswith("en")
    return str(reason.get("en") if english else reason.get("zh")) or str(reason.get("zh", ""))


def rule_title(rule: str) -> str:
    """A rule id as its translated title (the id itself for an unknown one)."""
    title = RULE_TITLES.get(str(rule))
    return str(title) if title is not None else str(rule)


def decision_text(decision: Mapping[str, Any] | None) -> str:
    """Every reason of a decision, as sentences joined for a message banner."""
    if not decision:
        return ""
    return " ".join(reason_text(r) for r in decision.get("reasons", []))


# --- The rule set's vocabulary and legal sources, as a page shows them ---------------------

#: Change kinds (rules.ChangeKind values) → label.
CHANGE_KIND_LABELS: dict[str, Any] = {
    "new_permit": gettext_lazy("新增取水许可"),
    "quota_increase": gettext_lazy("增加许可水量"),
    "quota_decrease": gettext_lazy("核减许可水量"),
    "renewal": gettext_lazy("延续"),
    "transfer": gettext_lazy("水权交易转让水量"),
    "well_activation": gettext_lazy("取水井启用"),
}

#: Water sources (rules.Source values) → label.
SOURCE_LABELS: dict[str, Any] = {
    "shallow": gettext_lazy("浅层地下水"),
    "deep": gettext_lazy("深层地下水"),
    "surface": gettext_lazy("地表水"),
}

#: English glosses of the titles of the laws and regulations the rules cite. The official
#: title is the Chinese one; an English page shows it with this gloss. Document numbers
#: (``阳水字〔2022〕100号``) are names and have none.
DOCUMENT_GLOSSES: dict[str, str] = {
    "地下水管理条例": "Regulations on Groundwater Management",
    "取水许可和水资源费征收管理条例": (
        "Regulations on Water Abstraction Permits and the Levy of Water Resource Fees"
    ),
}

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def _cn_number(text: str) -> int | None:
    """A Chinese numeral below 100 (``三十五``) as an int; None if it is not one."""
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _sep, units = text.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0))


def article_en(article: str) -> str:
    """An article reference in English: ``第二十条第一项`` → ``Art. 20(1)``, ``二(一)`` →
    ``part 2(1)``; a reference it cannot read is returned as it is."""
    m = re.fullmatch(r"第(\w+?)条(?:第(\w+?)项)?", article)
    if m:
        art, item = _cn_number(m.group(1)), _cn_number(m.group(2) or "")
        if art is not None and (item is not None or not m.group(2)):
            return f"Art. {art}" + (f"({item})" if item is not None else "")
    m = re.fullmatch(r"(\w)\((\w)\)", article)
    if m:
        part, sub = _cn_number(m.group(1)), _cn_number(m.group(2))
        if part is not None and sub is not None:
            return f"part {part}({sub})"
    m = re.fullmatch(r"\((\S+) 引\)", article)
    if m:
        return f"(cited in {m.group(1)})"
    return article


def _zh(text: str) -> str:
    return str(format_html('<span lang="zh-hans">{}</span>', text))


def source_html(source: Mapping[str, Any]) -> SafeString:
    """A legal source (``{"document", "article", "confirmed"}``) for a page: as cited in
    Chinese; on an English page the Chinese title (marked ``lang="zh-hans"``) with an English
    gloss and the article in English."""
    document = str(source.get("document", ""))
    article = str(source.get("article", ""))
    english = (get_language() or "").startswith("en")
    text: str
    if not english:
        text = str(escape(f"{document} {article}".strip()))
    else:
        gloss = DOCUMENT_GLOSSES.get(document)
        parts = [_zh(document) + (f" ({escape(gloss)})" if gloss else "")]
        if article:
            shown = article_en(article)
            cited = re.fullmatch(r"\(cited in (\S+)\)", shown)
            if cited:
                parts.append(f"(cited in {_zh(cited.group(1))})")
            else:
                parts.append(_zh(shown) if HAN_RE.search(shown) else escape(shown))
        text = " ".join(parts)
    if not source.get("confirmed", True):
        text += f" [{escape(_('未核实'))}]"
    return mark_safe(text)


def labels(values: Iterable[Any], table: Mapping[str, Any]) -> str:
    """Codes as their labels, joined (an unknown code as it is)."""
    return _("、").join(str(table.get(str(v), v)) for v in values)
