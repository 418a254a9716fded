"""The open downloads: the public wells' conditions, the zones, the townships' annual
withdrawals — CSV and GeoJSON, each with its licence and date (docs/portal.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aquifer.portal import conf, figures
from aquifer.portal.models import WellSnapshot
from aquifer.registry.models import Township, Zone

__all__ = ["DATASETS", "licence", "respond"]

Rows = Callable[[], list[tuple[dict[str, Any], dict[str, Any] | None]]]


def _wells() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for s in WellSnapshot.objects.all().iterator(2000):
        props = {
            "code": s.code,
            "township": s.township,
            "network": s.network,
            "layer": s.layer,
            "lon": s.lon,
            "lat": s.lat,
            "element": s.element,
            "latest_value_m": s.latest_value,
            "latest_at": s.latest_at.isoformat() if s.latest_at else "",
            "same_month_change_m": s.same_month_change,
            "status": s.status,
            "quality_class": s.quality_class,
            "quality_deciding": "; ".join(n[1] for n in s.quality_deciding),
            "refreshed_at": s.refreshed_at.isoformat(),
        }
        out.append((props, {"type": "Point", "coordinates": [s.lon, s.lat]}))
    return out


def _zones() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    out = []
    for z in Zone.objects.order_by("code"):
        resident, firm = figures.ZONE_MEANINGS.get(z.kind, ("", ""))
        props = {
            "code": z.code,
            "name": z.name,
            "kind": z.kind,
            "kind_label": str(z.get_kind_display()),
            "layer": z.layer,
            "area_km2": round(z.area_km2, 2),
            "for_residents": str(resident),
            "for_firms": str(firm),
        }
        out.append((props, z.geometry))
    return out


def _withdrawals() -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    year = timezone.localdate().year - 1
    geometry = dict(Township.objects.values_list("pk", "boundary"))
    out = []
    for r in figures.withdrawal_rows(year):
        props = {
            "year": year,
            "code": r.code,
            "name": r.name,
            "withdrawn_m3": r.withdrawn_m3,
            "estimated": r.estimated,
            "cap_m3": r.cap_m3,
        }
        out.append((props, geometry.get(r.key) if r.key is not None else None))
    return out


DATASETS: dict[str, tuple[Any, Rows]] = {
    "wells": (_("公开监测井现状"), _wells),
    "zones": (_("地下水分区"), _zones),
    "withdrawals": (_("乡镇年度取水量"), _withdrawals),
}


def licence() -> dict[str, str]:
    return {"licence": str(conf.get("LICENCE")), "licence_url": str(conf.get("LICENCE_URL"))}


def respond(dataset: str, fmt: str) -> HttpResponse:
    title, rows_of = DATASETS[dataset]
    rows = rows_of()
    now = timezone.localtime()
    stamp = now.strftime("%Y%m%d")
    if fmt == "geojson":
        body = json.dumps(
            {
                "type": "FeatureCollection",
                "name": dataset,
                "title": str(title),
                "generated": now.isoformat(),
                **licence(),
                "features": [{"type": "Feature", "geometry": g, "properties": p} for p, g in rows],
            },
            ensure_ascii=False,
        ).encode()
        content_type = "application/geo+json"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        lic = licence()
        writer.writerow([f"# {title} · {now:%Y-%m-%d} · {lic['licence']} {lic['licence_url']}"])
        if rows:
            writer.writerow(list(rows[0][0]))
            for p, _g in rows:
                writer.writerow(["" if v is None else v for v in p.values()])
        body = ("\ufeff" + buf.getvalue()).encode()
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{dataset}-{stamp}.{fmt}"'
    return response
