"""What several benches share: the command line, the machine facts at the end of the JSON
object, and bulk wells with a device each. Imported by the benches as ``_common`` (their own
folder is on ``sys.path`` when run as ``python bench/NAME.py``); Django models are imported
inside the functions, after the bench has set up its database."""

from __future__ import annotations

import argparse
import os
import platform
import time
from typing import Any


def parser(doc: str | None, *, dbs: tuple[str, ...] = ("sqlite", "postgres"),
           db: str = "sqlite", quick: str | None = None) -> argparse.ArgumentParser:  # fmt: skip
    """An argument parser described by the docstring's first paragraph, with ``--quick`` and
    ``--db``; the bench adds its own options."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--db", choices=list(dbs), default=db)
    return p


def head(bench: str, quick: bool, info: dict[str, Any]) -> dict[str, Any]:
    """The first keys of a database bench's JSON object: its name, ``quick``, the database
    facts from ``ingest.bench_database`` and the Python version."""
    return {"bench": bench, "quick": quick, **info, "python": platform.python_version()}


def machine(wall0: float) -> dict[str, Any]:
    """Python, machine, CPUs, 1-minute load and the wall time since ``wall0``
    (``time.perf_counter()``) — the last keys of a bench's JSON object."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1min": None if load is None else round(load, 2),
        "wall_seconds": round(time.perf_counter() - wall0, 1),
    }


def wells_with_devices(
    n: int,
    towns: list[Any],
    *,
    origin: tuple[float, float],
    step: tuple[float, float],
    purpose: str,
    device_prefix: str,
    **device: Any,
) -> tuple[list[Any], list[Any]]:
    """``n`` wells ``B-00000``… on a grid of 60 columns from ``origin`` (lon, lat) by ``step``,
    in ``towns`` in turn, each with one device (station ``<device_prefix>-00000``…, other
    fields from ``device``), created in bulk in one transaction."""
    from django.db import transaction

    from aquifer.registry.models import Device, Well

    with transaction.atomic():
        wells = Well.objects.bulk_create(
            [
                Well(
                    code=f"B-{i:05d}",
                    lon=origin[0] + (i % 60) * step[0],
                    lat=origin[1] + (i // 60) * step[1],
                    depth_m=100,
                    layer="shallow",
                    purpose=purpose,
                    township=towns[i % len(towns)],
                )
                for i in range(n)
            ],
            batch_size=1000,
        )
        devices = Device.objects.bulk_create(
            [
                Device(
                    protocol="MQTT", station_address=f"{device_prefix}-{i:05d}", well=w, **device
                )
                for i, w in enumerate(wells)
            ],
            batch_size=1000,
        )
    return wells, devices
