"""Attribution of recovery (issue 16, point 7) on real public series: the pastas example
"multiple wells" data (head, precipitation, evaporation and four extractions; tests/data/
SOURCES.md), and honest answers where the data are too short."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from aquifer.analysis.models import LevelMeasurement
from aquifer.closure import meteo
from aquifer.closure.attribution import attribute
from aquifer.closure.models import MeteoSeries
from aquifer.registry.models import Well

DATA = Path(__file__).parent.parent / "data"
START = dt.date(2010, 1, 1)  # a "programme" start inside the series


def _read(name: str) -> pd.Series:
    return pd.read_csv(DATA / name, index_col=0, parse_dates=True).iloc[:, 0]


@pytest.fixture(scope="module")
def real() -> dict[str, pd.Series]:
    head = _read("pastas_multiwell_head.csv")
    prec = _read("pastas_multiwell_prec_1995.csv") * 1000  # m/day → mm/day
    evap = _read("pastas_multiwell_evap_1995.csv") * 1000
    q = sum(
        _read(f"pastas_multiwell_extraction_{i}.csv").resample("D").ffill() for i in (1, 2, 3, 4)
    )
    return {"head": head, "prec": prec, "evap": evap, "pumping": q}


@pytest.mark.slow
def test_real_series_split_into_weather_and_pumping(real: dict[str, pd.Series]) -> None:
    a = attribute(real["head"], real["prec"], real["evap"], real["pumping"], programme_start=START)
    assert a.enough_data and a.has_pumping
    assert a.evp is not None and a.evp > 85  # the example fits well
    assert a.observed_change_m is not None and a.weather_change_m is not None
    assert a.pumping_change_m is not None
    # The parts add up to the observed change (with the residual), and the pumping part
    # carries the sign of the extraction change: less pumping, higher head.
    total = a.weather_change_m + a.pumping_change_m + a.residual_m
    assert total == pytest.approx(a.observed_change_m, abs=0.002)
    q = real["pumping"]
    before = q[(q.index >= "2009-01-01") & (q.index < "2010-01-01")].mean()
    after = q[q.index >= pd.Timestamp(a.recent[0])].mean()
    assert (a.pumping_change_m > 0) == (after < before)
    assert abs(a.residual_m) < abs(a.observed_change_m)
    assert len(a.chart["dates"]) == len(a.chart["simulated"]) == len(a.chart["pumping"])


def test_too_short_is_said_not_guessed(real: dict[str, pd.Series]) -> None:
    head = real["head"]
    few = head.iloc[:10]
    assert attribute(few, real["prec"], real["evap"], None, programme_start=START).message == (
        "too_few_observations"
    )
    short = head[(head.index >= "2009-06-01") & (head.index < "2011-01-01")]
    assert attribute(short, real["prec"], real["evap"], None, programme_start=START).message == (
        "too_short_period"
    )
    recent = head[head.index < "2010-06-01"]
    a = attribute(recent, real["prec"], real["evap"], None, programme_start=START)
    assert not a.enough_data and a.message == "no_period_after_programme"
    weather = real["prec"][real["prec"].index >= "2008-01-01"]
    a = attribute(head, weather, real["evap"], None, programme_start=START)
    assert a.message == "weather_does_not_cover" and a.evp is None


def _csv(s: pd.Series) -> bytes:
    lines = ["date,mm"] + [f"{d:%Y-%m-%d},{v:.4f}" for d, v in s.items()]
    return "\n".join(lines).encode()


def test_meteo_import_all_or_nothing(db: Any) -> None:
    good = b"date,mm\n2024-01-01,1.5\n2024-01-02,0\n"
    series, added = meteo.import_series(
        station="阳城", kind="precipitation", content=good, filename="p.csv"
    )
    assert added == 2 and series.values.count() == 2
    with pytest.raises(ValidationError, match="第 3 行"):
        meteo.import_series(
            station="阳城",
            kind="precipitation",
            content=b"d,v\n2024-01-03,1\n2024-01-04,x\n",
            filename="p.csv",
        )
    assert series.values.count() == 2
    changed = b"2024-01-01,2.5\n"
    with pytest.raises(ValidationError, match="已有不同的数值"):
        meteo.import_series(station="阳城", kind="precipitation", content=changed, filename="p.csv")
    meteo.import_series(
        station="阳城", kind="precipitation", content=changed, filename="p.csv", replace=True
    )
    assert series.values.get(day=dt.date(2024, 1, 1)).value_mm == 2.5


@pytest.mark.slow
def test_attribute_a_monitoring_well_from_the_database(
    world: Any, real: dict[str, pd.Series], settings: Any
) -> None:
    """The real head as manual soundings of a monitoring well (depth = 20 − head), the real
    weather imported as CSV; no metered well nearby: a model without pumping, said so."""
    settings.AQUIFER = {**settings.AQUIFER, "CLOSURE": {"BASELINE_YEAR": START.year - 1}}
    Well.objects.filter(pk=world.well_b.pk).update(purpose="monitoring")  # no pumping near
    for kind, s in (("precipitation", real["prec"]), ("evaporation", real["evap"])):
        daily = s.groupby(s.index.normalize()).mean()
        meteo.import_series(station="示例站", kind=kind, content=_csv(daily), filename="x.csv")
    head = real["head"][real["head"].index >= "2003-01-01"]
    weekly = head.resample("7D").mean().dropna()
    LevelMeasurement.objects.bulk_create(
        LevelMeasurement(
            monitoring_well=world.monitoring_b,
            element="depth_to_water",
            measured_at=timezone.make_aware(d.to_pydatetime()),
            value=20.0 - v,
        )
        for d, v in weekly.items()
    )
    a = meteo.attribute_well(world.monitoring_b, radius_m=10)
    assert a.enough_data and not a.has_pumping and a.pumping_change_m is None
    # This head rose with less pumping: the weather alone explains little of it, and what it
    # does not explain stays in the residual (not credited to the weather).
    assert a.evp is not None and a.evp < 60
    assert abs(a.residual_m) > abs(a.weather_change_m)
    assert MeteoSeries.objects.count() == 2
    r = world.client("bureau").get(
        f"/closure/attribution/?monitoring_well={world.monitoring_b.pk}&radius_m=50"
    )
    assert r.status_code == 200 and b"attribution-chart" in r.content
