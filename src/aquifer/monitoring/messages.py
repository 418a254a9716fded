"""Alarm titles and details as sentences in the reader's language.

An alarm stores a message ``code`` (``Alarm.message``) and its ``params`` (``Alarm.params``);
:func:`title` and :func:`detail` render them with gettext at display time, so an English
reader reads English and a Chinese reader Chinese. The stored ``title`` / ``detail`` (rendered
in the default language when the alarm was raised) stay for search and older consumers, and
are what alarms raised before codes existed show.

Params are numbers, dates and proper names (station addresses, well codes, permit numbers);
a param that is a ``{"zh": …, "en": …}`` dict is a text known in both languages (a finding's
message, an indicator list) and shows in the reader's. Codes of things with a label
(``element``, ``bit``) are translated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from aquifer.telemetry.elements import ELEMENTS

__all__ = [
    "ACTION_LABELS",
    "DETAILS",
    "STATUS_BIT_LABELS",
    "TITLES",
    "detail",
    "event_action",
    "event_note",
    "in_default_language",
    "notice_text",
    "render",
    "render_detail",
    "title",
]

#: Message code → title (named %-placeholders: the alarm's params).
TITLES: dict[str, Any] = {
    "device_offline": gettext_lazy("%(station)s 离线 %(hours).0f 小时"),
    "low_battery": gettext_lazy("%(station)s 电池电压低 %(volts).2f V"),
    "suspicious_reading": gettext_lazy("%(station)s %(element)s数据异常"),
    "device_status": gettext_lazy("%(station)s %(bit)s"),
    "unregistered_station": gettext_lazy("未登记测站 %(station)s 上报数据（疑似未登记取水井）"),
    "level_below_warning": gettext_lazy("%(well)s 埋深 %(depth).2f m 超过预警埋深 %(warn)g m"),
    "level_falling_fast": gettext_lazy("%(well)s 水位下降 %(rate).2f m/日（阈值 %(limit)g）"),
    "quota_80": gettext_lazy("%(permit)s %(year)s年取水量已达许可水量的 %(pct)d%%"),
    "quota_100": gettext_lazy("%(permit)s %(year)s年取水量已达许可水量 (%(pct)d%%)"),
    "deep_withdrawal": gettext_lazy("深层井 %(well)s 在应急期外取水"),
    "prohibited_withdrawal": gettext_lazy("禁采区内取水井 %(well)s 取水"),
    "closed_well_withdrawal": gettext_lazy("已关停的井 %(well)s 仍有取水（%(since)s 关停）"),
    "permit_deadline.overdue": gettext_lazy(
        "许可申请 #%(application)s 已超过法定决定期限 (%(deadline)s)"
    ),
    "permit_deadline.due": gettext_lazy(
        "许可申请 #%(application)s 距决定期限还有 %(left)s 个工作日 (%(deadline)s)"
    ),
    "permit_deadline.renewal": gettext_lazy(
        "许可证 %(permit)s 将于 %(until)s 到期，应于 %(by)s 前申请延续"
    ),
    "permit_unused": gettext_lazy("许可证 %(permit)s 连续%(years)s年未取水（%(first)s–%(last)s）"),
    "quality_warning": gettext_lazy("水质预警：%(well)s 样品 %(sample)s"),
    "metering_missing.no_meter": gettext_lazy("取水井 %(well)s 未安装计量设施"),
    "metering_missing.not_online": gettext_lazy(
        "取水井 %(well)s 许可水量 %(permitted)s m³ 应在线计量，未在线上报"
    ),
    "suspected_bypass": gettext_lazy(
        "取水井 %(well)s %(year)s年%(month)s月计量水量 %(metered)s m³，"
        "以电折水 %(expected)s m³，疑似绕表或计量失准"
    ),
}

_DECISION_RULE = gettext_lazy("取水许可和水资源费征收管理条例 第十九条：45个工作日内作出决定")

#: Message code → detail (same params; codes without one have no detail).
DETAILS: dict[str, Any] = {
    "device_offline": gettext_lazy(
        "最近上报 %(last)s；超过 %(factor)g 倍上报间隔（%(interval)s 分钟）"
    ),
    "low_battery": gettext_lazy("低于 %(limit)g V"),
    "unregistered_station": gettext_lazy("%(frames)s 帧，规约 %(protocol)s，来源 %(source)s"),
    "quota_80": gettext_lazy("%(used).0f / %(quota).0f m³"),
    "quota_100": gettext_lazy("%(used).0f / %(quota).0f m³"),
    "deep_withdrawal": gettext_lazy(
        "%(month)s: %(volume).1f m³（阳水字〔2022〕100号 二(一)；地下水管理条例 第十五条）"
    ),
    "prohibited_withdrawal": gettext_lazy(
        "%(month)s: %(volume).1f m³（地下水管理条例 第三十五条）"
    ),
    "closed_well_withdrawal": gettext_lazy(
        "关停后水表走字 %(advance).1f m³，最大瞬时流量 %(flow).2f m³/h"
        "（阳水字〔2022〕100号 二(二)）"
    ),
    "permit_deadline.overdue": _DECISION_RULE,
    "permit_deadline.due": _DECISION_RULE,
    "permit_deadline.renewal": gettext_lazy(
        "取水许可和水资源费征收管理条例 第二十五条：有效期届满45日前申请延续"
    ),
    "permit_unused": gettext_lazy(
        "取水许可和水资源费征收管理条例 第四十四条：连续2年不取水的，注销取水许可证"
    ),
}

#: Device status bits (normalised names, ``sweeps.STATUS_TROUBLE``) → label.
STATUS_BIT_LABELS: dict[str, Any] = {
    "door_open": gettext_lazy("箱门打开"),
    "ac_power_off": gettext_lazy("交流电停电"),
    "magnetic_interference": gettext_lazy("磁干扰"),
    "flow_meter_fault": gettext_lazy("流量仪表故障"),
    "level_meter_fault": gettext_lazy("水位仪表故障"),
    "memory_fault": gettext_lazy("存储器故障"),
    "temperature_meter_fault": gettext_lazy("水温仪表故障"),
}

#: AlarmEvent actions → label.
ACTION_LABELS: dict[str, Any] = {
    "opened": gettext_lazy("发生"),
    "acknowledged": gettext_lazy("确认"),
    "escalated": gettext_lazy("升级"),
    "resolved": gettext_lazy("解除"),
    "cleared": gettext_lazy("条件消除"),
    "false": gettext_lazy("误报关闭"),
}

#: Notes the system writes on alarm events (clear_alarm, escalation) → label.
SYSTEM_NOTES: dict[str, Any] = {
    "condition cleared": gettext_lazy("条件已消除"),
    "SLA exceeded": gettext_lazy("超过处理时限"),
    "升级为 quota_100": gettext_lazy("升级为取水量超许可水量告警"),
    "低于许可水量": gettext_lazy("低于许可水量"),
    "低于80%": gettext_lazy("低于许可水量的80%"),
    "许可证已不在有效状态": gettext_lazy("许可证已不在有效状态"),
    "本月无应急期外取水": gettext_lazy("本月无应急期外取水"),
    "本月无取水": gettext_lazy("本月无取水"),
    "条件已不成立": gettext_lazy("条件已不成立"),
    "已决定、已申请延续或已失效": gettext_lazy("已决定、已申请延续或已失效"),
    "已恢复取水或已注销": gettext_lazy("已恢复取水或已注销"),
}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def _text(value: Any) -> Any:
    """A ``{"zh": …, "en": …}`` param in the reader's language; anything else as it is."""
    if isinstance(value, Mapping) and "zh" in value:
        return value.get("en") or value["zh"] if _english() else value["zh"]
    return value


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: _text(v) for k, v in params.items()}
    element = out.get("element")
    if isinstance(element, str) and element in ELEMENTS:
        e = ELEMENTS[element]
        out["element"] = e.name_en if _english() else e.name_zh
    if "bit" in out:
        out["bit"] = str(STATUS_BIT_LABELS.get(str(out["bit"]), out["bit"]))
    return out


def render(templates: Mapping[str, Any], code: str, params: Mapping[str, Any]) -> str | None:
    """``templates[code]`` filled with ``params`` in the current language (None if it fails)."""
    template = templates.get(code)
    if template is None:
        return None
    try:
        return str(template) % _params(params)
    except (KeyError, TypeError, ValueError):
        return None


def _lines(params: Mapping[str, Any], key: str) -> str:
    return "\n".join(str(_text(line)) for line in params.get(key) or [])


def _quality_detail(params: Mapping[str, Any]) -> str:
    """Why a sample called for a warning (analysis.samples.warning_reason, rendered here)."""
    reasons = []
    if params.get("class_bad"):
        reasons.append(
            _("水质类别为%(c)s类（%(ind)s）")
            % {"c": params.get("class", ""), "ind": _text(params.get("indicators", ""))}
        )
    if params.get("prev"):
        reasons.append(
            _("较上次样品 %(prev)s（%(pc)s类）变差")
            % {"prev": params["prev"], "pc": params.get("prev_class", "")}
        )
    if params.get("sources"):  # registered pollution sources nearby (enforcement)
        near = _("、").join(f"{s['name']} ({s['distance_m']} m)" for s in params["sources"])
        reasons.append(_("附近登记污染源：%(sources)s") % {"sources": near})
    return _("；").join(reasons)


def title(alarm: Any) -> str:
    """The alarm's title in the current language (the stored one for an alarm without code)."""
    code = getattr(alarm, "message", "") or ""
    text = render(TITLES, code, alarm.params or {}) if code else None
    return text if text is not None else str(alarm.title)


def render_detail(code: str, params: Mapping[str, Any], fallback: str = "") -> str:
    """The detail of message ``code`` in the current language (``fallback`` if none)."""
    if code == "suspicious_reading":
        return _lines(params, "findings")
    if code == "quality_warning":
        return _quality_detail(params)
    text = render(DETAILS, code, params) if code else None
    return text if text is not None else fallback


def detail(alarm: Any) -> str:
    """The alarm's detail in the current language (the stored one for an alarm without code)."""
    code = getattr(alarm, "message", "") or ""
    return render_detail(code, alarm.params or {}, str(alarm.detail)) if code else str(alarm.detail)


#: The prefix of an alarm notice's message code (``notifications.Notice.message``).
NOTICE_PREFIX = "alarm:"


def notice_text(code: str, params: Mapping[str, Any]) -> tuple[str | None, str | None] | None:
    """An alarm notice's title and detail in the current language (the
    ``notifications.hooks.notice_text`` hook): the code is ``alarm:<message code>``; None
    for a part that cannot be rendered (the notice shows it as sent)."""
    if not code.startswith(NOTICE_PREFIX):
        return None
    message = code.removeprefix(NOTICE_PREFIX)
    has_detail = message in DETAILS or message in ("suspicious_reading", "quality_warning")
    detail = render_detail(message, params) if has_detail else None
    return render(TITLES, message, params), detail


def event_action(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def event_note(event: Any, alarm: Any) -> str:
    """An event's note: the alarm's detail for "opened", a system note translated, else as
    written (a person's note)."""
    if event.action == "opened" and getattr(alarm, "message", ""):
        return detail(alarm)
    label = SYSTEM_NOTES.get(event.note)
    return str(label) if label is not None else str(event.note)


def in_default_language(
    code: str, params: Mapping[str, Any], fallback: str = ""
) -> tuple[str, str]:
    """(title, detail) of ``code`` in the site's default language: what is stored with the
    alarm and sent in notifications (nobody has a language of their own yet)."""

    probe = SimpleNamespace(message=code, params=dict(params), title=fallback, detail="")
    with translation.override(settings.LANGUAGE_CODE):
        return title(probe), detail(probe)
