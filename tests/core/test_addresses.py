"""The caller's address behind the county's reverse proxy (core/addresses.py): read from
X-Forwarded-For only when the request comes from a listed proxy, right to left, never taking
what a client wrote into the header itself; the complaint limit and the login lockout count
callers, not the proxy."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, RequestFactory

from aquifer.core.addresses import client_ip

PROXY = "10.0.0.5"


@pytest.fixture
def proxied(settings: Any) -> Any:
    settings.AQUIFER = {**settings.AQUIFER, "TRUSTED_PROXIES": f"{PROXY}, 192.168.8.0/24, fd00::/8"}
    return settings


def ip(remote: str, xff: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return client_ip(RequestFactory().get("/", **meta))


def test_without_listed_proxies_the_header_is_ignored() -> None:
    assert ip("203.0.113.9", "1.2.3.4") == "203.0.113.9"
    assert ip(PROXY, "198.51.100.7") == PROXY


@pytest.mark.parametrize(
    ("remote", "xff", "caller"),
    [
        (PROXY, "198.51.100.7", "198.51.100.7"),  # one nginx in front
        (PROXY, "1.2.3.4, 198.51.100.7", "198.51.100.7"),  # the client wrote 1.2.3.4 itself
        (PROXY, "198.51.100.7, 192.168.8.20", "198.51.100.7"),  # two listed proxies
        (PROXY, "198.51.100.7:51234", "198.51.100.7"),  # with a port
        (PROXY, "[2001:db8::7]:443", "2001:db8::7"),
        (PROXY, "unknown, 198.51.100.7", "198.51.100.7"),
        (PROXY, "198.51.100.7, garbage", PROXY),  # garbled by the last hop: the proxy's
        (PROXY, "", PROXY),
        (PROXY, None, PROXY),
        (PROXY, "192.168.8.20", "192.168.8.20"),  # an office client behind listed proxies
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # not from a proxy: the header is forged
        ("fd00::1", "2001:db8::9", "2001:db8::9"),
    ],
)
def test_the_caller_behind_listed_proxies(
    proxied: Any, remote: str, xff: str | None, caller: str
) -> None:
    assert ip(remote, xff) == caller


def test_a_listed_proxy_that_is_no_address_stops_the_start(proxied: Any) -> None:
    proxied.AQUIFER = {**proxied.AQUIFER, "TRUSTED_PROXIES": "10.0.0.5, nginx.local"}
    with pytest.raises(SystemCheckError, match=r"nginx\.local"):
        call_command("check")


def test_the_complaint_limit_counts_callers_behind_the_proxy(world: Any, proxied: Any) -> None:
    proxied.AQUIFER = {**proxied.AQUIFER, "PORTAL": {"RATE_PER_HOUR": 2}}
    data = {"category": "other", "description": "代理后的提交。", "lon": world.well_a.lon,
            "lat": world.well_a.lat}  # fmt: skip
    one = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert [one.post("/api/complaints/", data).status_code for _ in range(3)] == [201, 201, 429]
    # another resident through the same proxy is not refused for the first one's filings
    two = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert two.post("/api/complaints/", data).status_code == 201
    # nor can the first escape its limit by writing another address into the header
    forged = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7")
    assert forged.post("/api/complaints/", data).status_code == 429


def test_login_failures_are_counted_by_the_caller(world: Any, proxied: Any) -> None:
    from axes.models import AccessAttempt

    c = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    c.post("/login/", {"username": "bureau", "password": "wrong"})
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.7"]
