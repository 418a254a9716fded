"""HTTP ingest: POST /api/ingest/readings with device authentication, JSON and CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve

from aquifer.telemetry.devices import default_cache
from aquifer.telemetry.models import QuarantinedFrame, Reading

URL = "/api/ingest/readings"
TOKEN = "0123456789abcdef"
STATION = "yc-http-test-1"


def test_the_endpoint_is_mounted_in_the_api() -> None:
    assert resolve(URL).url_name


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    default_cache().clear()
    yield
    default_cache().clear()


@pytest.fixture
def device(world: Any) -> Any:
    from aquifer.registry.models import Device

    d = Device(kind="quality_sonde", protocol="HTTP", station_address=STATION, well=world.well_a)
    d.set_secret(TOKEN)
    d.save()
    return d


def auth(station: str = STATION, token: str = TOKEN) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Device {station}:{token}"}


def batch(*items: tuple[str, str, Any]) -> str:
    return json.dumps(
        {"readings": [{"element": e, "observed_at": t, "value": v} for e, t, v in items]}
    )


GOOD = batch(
    ("depth_to_water", "2026-11-25T10:00:00+08:00", 12.34),
    ("depth_to_water", "2026-11-25T11:00:00+08:00", 12.40),
    ("ph", "2026-11-25T10:00:00+08:00", 7.3),
)


def post(client: Client, body: str | bytes, content_type: str = "application/json",
         **headers: Any) -> Any:  # fmt: skip
    return client.post(URL, body, content_type=content_type, **headers)


def test_json_batch_is_stored_and_a_resend_counts_as_duplicates(device: Any) -> None:
    client = Client(enforce_csrf_checks=True)  # devices have no CSRF token: exempt
    first = post(client, GOOD, **auth())
    assert first.status_code == 200, first.content
    assert first.json() == {"stored": 3, "duplicates": 0}
    again = post(client, GOOD, **auth())
    assert again.json() == {"stored": 0, "duplicates": 3}
    assert Reading.objects.filter(device=device).count() == 3
    assert set(Reading.objects.values_list("element", flat=True)) == {"depth_to_water", "ph"}


def test_csv_body_and_csv_upload(device: Any) -> None:
    text = (
        "element,observed_at,value\n"
        "depth_to_water,2026-11-25T10:00:00+08:00,12.34\n"
        "\n"
        "battery_voltage,2026-11-25 10:00:00,12.71\n"
    )
    response = post(Client(), text, "text/csv", **auth())
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 2, "duplicates": 0}
    upload = SimpleUploadedFile("readings.csv", text.replace("12.71", "12.70").encode())
    response = Client().post(URL, {"file": upload}, **auth())
    assert response.json() == {"stored": 0, "duplicates": 2}
    assert Reading.objects.get(element="battery_voltage").value == 12.71  # first value wins


def test_row_errors_name_the_row_and_field_and_nothing_is_stored(device: Any) -> None:
    body = batch(
        ("depth_to_water", "2026-11-25T10:00:00+08:00", 12.34),
        ("depth_to_water", "2026-11-25T11:00:00+08:00", "deep"),
        ("rainfall", "2026-11-25T10:00:00+08:00", 1.0),
        ("ph", "25/11/2026", 7),
    )
    response = post(Client(), body, **auth())
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == [
        "readings[1].value",
        "readings[2].element",
        "readings[3].observed_at",
    ]
    assert "unknown element 'rainfall'" in errors[1]["message"]
    assert response.json()["detail"]
    text = "element,observed_at,value\nph,2026-11-25T10:00:00+08:00,seven\n"
    csv_errors = post(Client(), text, "text/csv", **auth()).json()["errors"]
    assert csv_errors == [{"field": "line[2].value", "message": "'seven' is not a number"}]
    bad_header = post(Client(), "a,b\n1,2\n", "text/csv", **auth()).json()["errors"]
    assert bad_header[0]["field"] == "csv" and "element" in bad_header[0]["message"]
    not_json = post(Client(), "{", **auth())
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "__all__"
    assert not Reading.objects.exists()


def test_device_authentication(device: Any, world: Any) -> None:
    client = Client()
    assert post(client, GOOD).status_code == 401  # no header
    assert post(client, GOOD, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 401
    assert post(client, GOOD, **auth(token="wrong")).status_code == 401
    assert post(client, GOOD, **auth(station="yc-nobody")).status_code == 401
    # A registered device of another protocol, and an inactive one.
    world.device_a.set_secret(TOKEN)
    world.device_a.save()
    other = post(client, GOOD, **auth(station=world.device_a.station_address))
    assert other.status_code == 403 and "SL651" in other.json()["detail"]
    device.active = False
    device.save()
    default_cache().clear()
    assert post(client, GOOD, **auth()).status_code == 403
    assert not Reading.objects.exists()
    kinds = sorted(QuarantinedFrame.objects.values_list("kind", "station"))
    assert kinds == [
        ("auth_failed", world.device_a.station_address),
        ("auth_failed", STATION),
        ("auth_failed", STATION),
        ("unknown_station", "yc-nobody"),
    ]
    kept = QuarantinedFrame.objects.filter(station="yc-nobody").get()
    assert kept.protocol == "HTTP" and bytes.fromhex(kept.raw_hex) == GOOD.encode()


def test_a_user_session_is_not_a_device(device: Any, world: Any) -> None:
    client = world.client("bureau")
    response = post(client, GOOD)
    assert response.status_code == 401
    assert not Reading.objects.exists()


def test_unsupported_content_type(device: Any) -> None:
    response = post(Client(), "<xml/>", "application/xml", **auth())
    assert response.status_code == 415


def test_extreme_times_and_values_are_row_errors_not_500s(device: Any) -> None:
    """A year-0001 time (datetime arithmetic overflows) and a 401-digit value (float() of it
    overflows, json.loads of it is refused) are 4xx naming the row and field; nothing is
    stored."""
    year_one = batch(
        ("depth_to_water", "2026-11-25T10:00:00+08:00", 12.34),
        ("depth_to_water", "0001-01-01T00:00:00+08:00", 12.0),
    )
    response = post(Client(), year_one, **auth())
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["readings[1].observed_at"]

    huge = '{"readings": [{"element": "ph", "observed_at": "2026-11-25T10:00:00+08:00", '
    huge += '"value": ' + "9" * 401 + "}]}"
    response = post(Client(), huge, **auth())
    assert 400 <= response.status_code < 500, response.content
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields and all("value" in f for f in fields), fields

    text = "element,observed_at,value\nph,2026-11-25T10:00:00+08:00," + "9" * 401 + "\n"
    response = post(Client(), text, "text/csv", **auth())
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["line[2].value"]
    assert not Reading.objects.exists()
