"""The audit trail: every change kept with who, when and old → new; entries cannot be edited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from aquifer.core.models import AuditEntry
from aquifer.registry.models import Device, Well


def entries(obj: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("id")
    )


def test_api_update_records_user_request_and_old_new(world: Any) -> None:
    c = world.client("township")
    r = c.patch(
        f"/api/wells/{world.well_a.pk}",
        json.dumps({"name": "一号井", "depth_m": 130}),
        content_type="application/json",
    )
    assert r.status_code == 200
    last = entries(world.well_a)[-1]
    assert last.action == "update"
    assert last.username == "officer_a"
    assert last.source == "api"
    assert last.request_id == r["X-Request-ID"]
    assert last.township_id == world.township_a.pk
    assert last.changes["name"] == ("", "一号井")
    assert last.changes["depth_m"] == ("120.00", "130.00")
    assert set(last.changes) == {"name", "depth_m", "updated_at"}


def test_history_endpoint_shows_changes(world: Any) -> None:
    c = world.client("bureau")
    c.patch(
        f"/api/wells/{world.well_a.pk}",
        json.dumps({"status": "standby"}),
        content_type="application/json",
    )
    history = json.loads(c.get(f"/api/wells/{world.well_a.pk}/history").content)
    assert [h["action"] for h in history] == ["update", "create"]  # newest first
    assert history[0]["changes"]["status"] == ["active", "standby"]
    assert history[0]["username"] == "bureau"


def test_unchanged_save_writes_no_entry(world: Any) -> None:
    n = AuditEntry.objects.count()
    w = Well.objects.get(pk=world.well_a.pk)
    w.notes = w.notes
    Well.objects.filter(pk=w.pk).update()  # nothing
    assert AuditEntry.objects.count() == n


def test_delete_is_recorded_with_the_last_state(world: Any) -> None:
    d = Device.objects.create(kind="rtu", protocol="HTTP", station_address="tmp-rtu")
    pk = d.pk
    world.client("bureau").delete(f"/api/devices/{pk}")
    last = AuditEntry.objects.filter(object_type="registry.device", object_id=str(pk)).first()
    assert last is not None and last.action == "delete"
    assert last.before["station_address"] == "tmp-rtu"
    assert last.after is None


def test_device_secret_is_never_stored_in_the_trail(world: Any) -> None:
    c = world.client("bureau")
    c.patch(
        f"/api/devices/{world.device_a.pk}",
        json.dumps({"secret": "very-secret-1"}),
        content_type="application/json",
    )
    last = entries(world.device_a)[-1]
    _old, new = last.changes["secret_hash"]
    assert new.startswith("sha256:") and "very-secret-1" not in json.dumps(last.after)
    assert Device.objects.get(pk=world.device_a.pk).check_secret("very-secret-1")


def test_zone_change_rederives_wells_and_audits_it(world: Any) -> None:
    w = world.well_b
    assert w.zone_id is None
    ring = [[112.56, 35.52], [112.59, 35.52], [112.59, 35.55], [112.56, 35.55], [112.56, 35.52]]
    c = world.client("bureau")
    r = c.patch(
        f"/api/zones/{world.zone.pk}",
        json.dumps({"geometry": {"type": "Polygon", "coordinates": [ring]}}),
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    w.refresh_from_db()
    assert w.zone_id == world.zone.pk
    last = entries(w)[-1]
    assert last.changes["zone_id"] == (None, world.zone.pk)
    assert "zone JC-HCXF" in last.reason


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE core_auditentry SET username = 'mallory'",
        "DELETE FROM core_auditentry",
    ],
)
def test_database_refuses_to_edit_or_delete_entries(world: Any, sql: str) -> None:
    n = AuditEntry.objects.count()
    assert n > 0
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    assert AuditEntry.objects.count() == n
    assert not AuditEntry.objects.filter(username="mallory").exists()


def test_orm_refuses_to_resave_an_entry(world: Any) -> None:
    from django.core.exceptions import ValidationError

    e = AuditEntry.objects.first()
    e.username = "mallory"
    with pytest.raises(ValidationError):
        e.save()


def test_api_offers_no_way_to_change_entries(world: Any) -> None:
    c = world.client("bureau")
    e = AuditEntry.objects.first()
    for method in ("post", "patch", "put", "delete"):
        r = getattr(c, method)(f"/api/audit/{e.pk}", "{}", content_type="application/json")
        assert r.status_code in (404, 405)
    assert AuditEntry.objects.get(pk=e.pk).username == e.username
