"""The assessment's arithmetic: a scoring method (data) applied to the measures.

A method's ``definition`` (stored in :class:`~aquifer.supervision.models.ScoringMethod`,
versioned by year) is::

    {"indicators": [{"code": "arrival_rate", "weight": 15, "better": "higher",
                     "zero_at": 0.5}, ...],
     "deductions": [{"code": "overdue_rectification", "points": 2, "max": 10}, ...]}

An indicator's points: ``ratio`` = value / target (``better: "lower"``: target / value, a
value of 0 is full marks); at or above 1 the full ``weight``; at or below ``zero_at`` none;
linear between. An indicator without a value (nothing to measure: no devices, no alarms due)
scores its full weight and says so (``"no_data": true``). Deductions are ``points`` per
record, at most ``max``. The score is points − deductions + the bureau's adjustments.

:func:`validate` refuses a malformed definition with the field that is wrong, so a bad method
cannot be stored.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aquifer.supervision.measures import DEDUCTIONS, MEASURES, Measure

__all__ = ["DEFAULT_METHOD", "indicator_points", "score_township", "validate"]

#: The default method (weights sum to 100); the bureau edits it as data (a new version).
#: The weights are a starting point, not a published county rule (unconfirmed).
DEFAULT_METHOD: dict[str, Any] = {
    "indicators": [
        {"code": "withdrawal", "weight": 20, "better": "lower", "zero_at": 0.8},
        {"code": "closures", "weight": 15, "better": "higher", "zero_at": 0.0},
        {"code": "meter_coverage", "weight": 15, "better": "higher", "zero_at": 0.5},
        {"code": "online_meter_coverage", "weight": 10, "better": "higher", "zero_at": 0.5},
        {"code": "arrival_rate", "weight": 10, "better": "higher", "zero_at": 0.6},
        {"code": "levels_stable", "weight": 10, "better": "higher", "zero_at": 0.0},
        {"code": "alarm_sla", "weight": 5, "better": "higher", "zero_at": 0.5},
        {"code": "rectification_on_time", "weight": 10, "better": "higher", "zero_at": 0.0},
        {"code": "plan_completion", "weight": 5, "better": "higher", "zero_at": 0.0},
    ],
    "deductions": [
        {"code": "prohibited_withdrawal", "points": 2, "max": 10},
        {"code": "overdue_rectification", "points": 1, "max": 5},
    ],
}


def validate(definition: Any) -> dict[str, Any]:
    """The definition if well formed; else a ValidationError naming ``definition``."""

    def bad(msg: str) -> ValidationError:
        return ValidationError({"definition": msg})

    if not isinstance(definition, dict):
        raise bad(_("评分办法须为对象。"))
    inds = definition.get("indicators")
    if not isinstance(inds, list) or not inds:
        raise bad(_("评分办法须至少包含一项指标。"))
    seen = set()
    for i in inds:
        if not isinstance(i, dict) or i.get("code") not in MEASURES:
            raise bad(_("未知指标：%s") % (i.get("code") if isinstance(i, dict) else i))
        if i["code"] in seen:
            raise bad(_("指标重复：%s") % i["code"])
        seen.add(i["code"])
        w, z = i.get("weight"), i.get("zero_at", 0)
        if not isinstance(w, int | float) or w < 0:
            raise bad(_("指标 %s 的权重须为非负数。") % i["code"])
        if not isinstance(z, int | float) or not 0 <= z < 1:
            raise bad(_("指标 %s 的零分线须在 0 至 1 之间。") % i["code"])
        if i.get("better", "higher") not in ("higher", "lower"):
            raise bad(_("指标 %s 的方向须为 higher 或 lower。") % i["code"])
    for d in definition.get("deductions", []):
        if not isinstance(d, dict) or d.get("code") not in DEDUCTIONS:
            raise bad(_("未知扣分项：%s") % (d.get("code") if isinstance(d, dict) else d))
        for key in ("points", "max"):
            if not isinstance(d.get(key), int | float) or d[key] < 0:
                raise bad(
                    _("扣分项 %(code)s 的 %(key)s 须为非负数。") % {"code": d["code"], "key": key}
                )
    return definition


def indicator_points(spec: dict[str, Any], value: float | None, target: float | None) -> float:
    weight = float(spec["weight"])
    if value is None or target is None:
        return weight
    if spec.get("better", "higher") == "lower":
        ratio = 1.0 if value <= 0 else target / value
    else:
        ratio = 1.0 if target <= 0 else value / target
    zero = float(spec.get("zero_at", 0))
    if ratio >= 1:
        return weight
    if ratio <= zero:
        return 0.0
    return round(weight * (ratio - zero) / (1 - zero), 2)


def score_township(
    definition: dict[str, Any],
    measures: dict[str, dict[int, Measure]],
    deductions: dict[str, dict[int, int]],
    targets: dict[str, float | None],
    township_id: int,
) -> tuple[float, float, dict[str, Any]]:
    """(points, deductions, details) of one township."""
    lines = []
    points = 0.0
    for spec in definition["indicators"]:
        code = spec["code"]
        m = measures[code].get(township_id, Measure(None))
        target = targets.get(code)
        p = indicator_points(spec, m.value, target)
        points += p
        lines.append(
            {
                "code": code,
                "weight": spec["weight"],
                "target": target,
                "points": p,
                "no_data": m.value is None,
                **m.as_dict(),
            }
        )
    taken = []
    minus = 0.0
    for spec in definition.get("deductions", []):
        n = deductions[spec["code"]].get(township_id, 0)
        d = min(float(spec["max"]), n * float(spec["points"]))
        minus += d
        taken.append({"code": spec["code"], "count": n, "points": d})
    return round(points, 2), round(minus, 2), {"indicators": lines, "deductions": taken}
