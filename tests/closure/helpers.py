from __future__ import annotations

import datetime as dt
from typing import Any

from aquifer.core.audit import audit_context
from aquifer.registry.models import CoverageArea, SupplyWork, Well
from tests.conftest import square

TODAY = dt.date(2026, 6, 15)


def supply(lon: float, lat: float, half: float = 0.01, served_on: Any = dt.date(2025, 1, 1)) -> Any:
    with audit_context(source="test"):
        work = SupplyWork.objects.create(
            code="ZF-1", name="张峰水库供水工程", kind="reservoir_project"
        )
        area = CoverageArea.objects.create(
            work=work, name="县城东片", geometry=square(lon, lat, half), served_on=served_on
        )
    return work, area


def well(code: str, lon: float, lat: float, **kw: Any) -> Well:
    kw.setdefault("depth_m", 100)
    kw.setdefault("layer", "shallow")
    kw.setdefault("purpose", "agricultural")
    with audit_context(source="test"):
        w = Well(code=code, **kw)
        w.set_location(lon, lat)
        w.save()
    return w


def png(colour: str = "red") -> bytes:
    """A small PNG (a photo or a signature page, as far as the checks go)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buf, format="PNG")
    return buf.getvalue()
