"""Who may do what with levels, trends and water quality ("Roles and scoping")."""

from __future__ import annotations

from aquifer.analysis.models import (
    LevelForecast,
    LevelMeasurement,
    QualityResult,
    QualitySample,
    WellTrend,
    ZoneTrend,
)
from aquifer.core.policies import SIGNED_IN, Role, capability, model_policy, routes

for _model in (LevelForecast, LevelMeasurement, QualityResult, QualitySample, WellTrend, ZoneTrend):
    model_policy(_model)

#: The zone overview and balance: everyone; well-level pages: signed in.
capability("analysis.overview", *Role)
capability("analysis.wells", *SIGNED_IN)


# The home page's figures (core/morning.py, this app's morning.py): who sees which.
capability("analysis.morning", Role.BUREAU, Role.TOWNSHIP)  # wells falling

routes(
    {
        "analysis:overview": "analysis.overview",
        "analysis:balance": "analysis.overview",
        "analysis:well_trends": "analysis.wells",
        "analysis:well_detail": ("registry.monitoringwell", "view"),
        "analysis:sounding_new": ("analysis.levelmeasurement", "add"),
        "analysis:sample_list": "analysis.wells",
        "analysis:sample_new": ("analysis.qualitysample", "add"),
        "analysis:sample_import": ("analysis.qualitysample", "add"),
        "analysis:sample_detail": ("analysis.qualitysample", "view"),
        "analysis_well_trends": ("analysis.welltrend", "view"),
        "analysis_well_trend": ("analysis.welltrend", "view"),
        "analysis_zone_trends": ("analysis.zonetrend", "view"),
        "analysis_zones_geojson": ("analysis.zonetrend", "view"),
        "analysis_well_forecast": ("analysis.levelforecast", "view"),
        "analysis_zone_balance": "analysis.overview",
        "analysis_samples": ("analysis.qualitysample", "view"),
        "analysis_sample_create": ("analysis.qualitysample", "add"),
        "analysis_sample": ("analysis.qualitysample", "view"),
        "analysis_soundings": ("analysis.levelmeasurement", "view"),
        "analysis_sounding_create": ("analysis.levelmeasurement", "add"),
    }
)
