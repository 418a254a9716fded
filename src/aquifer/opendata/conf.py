"""Settings of the open-data app, ``AQUIFER["OPENDATA"]``, with their defaults.

``EXCHANGE``: the layout of the exchange files for the national groundwater monitoring
network (国家地下水监测工程). No published layout was found, so the default is ours and
UNCONFIRMED (docs/open-data.md): each file is a list of ``(field, header)`` columns, ``field``
one of :data:`aquifer.opendata.exchange.LEVEL_FIELDS` / ``QUALITY_FIELDS``; a deployment that
receives the network's template sets its own columns and headers here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "EXCHANGE": {
        "LEVELS": [
            ("station", "测站编码"),
            ("name", "测站名称"),
            ("date", "日期"),
            ("element", "监测要素"),
            ("mean", "日均值(m)"),
            ("min", "日最小值(m)"),
            ("max", "日最大值(m)"),
            ("n", "观测次数"),
        ],
        "QUALITY": [
            ("station", "测站编码"),
            ("sample_id", "样品编号"),
            ("sampled_at", "采样时间"),
            ("lab", "检测单位"),
            ("indicator", "指标"),
            ("value", "检测值"),
            ("unit", "单位"),
            ("below_detection", "未检出"),
            ("klass", "类别"),
        ],
    },
}


def opendata_setting(key: str) -> Any:
    return {**DEFAULTS, **settings.AQUIFER.get("OPENDATA", {})}[key]
