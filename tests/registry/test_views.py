"""The web pages: every page × every role, and what the forms save and refuse.

Township A is 凤城镇 (the township officer's), B is 北留镇; the water user owns A's records.
Statuses: 200, 403 (visible but not allowed), 404 (out of sight), LOGIN (an anonymous
visitor sent to the login page). A refused request leaves every record as it was.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from pyproj import Transformer

from aquifer.core.models import AuditEntry
from aquifer.core.roles import Action
from aquifer.core.scoping import can
from aquifer.registry.choices import WELL_STATUS_COLOURS, ZONE_COLOURS
from aquifer.registry.models import Device, MonitoringWell, Township, WaterUser, Well, Zone

ROLES = ["bureau", "township", "water_user", "inspector", "public", "anonymous"]
LOGIN = "login"


def E(bureau: Any, township: Any, water_user: Any, inspector: Any, public: Any, anonymous: Any):
    return dict(
        zip(ROLES, (bureau, township, water_user, inspector, public, anonymous), strict=True)
    )


EVERYONE = E(200, 200, 200, 200, 200, 200)
SCOPED_LIST = E(200, 200, 200, 200, 403, LOGIN)
AUDIT = E(200, 200, 403, 200, 403, LOGIN)
READ_A = E(200, 200, 200, 200, 404, LOGIN)
READ_B = E(200, 404, 404, 200, 404, LOGIN)
CREATE = E(200, 200, 403, 403, 403, LOGIN)
CREATE_SHARED = E(200, 403, 403, 403, 403, LOGIN)
EDIT_A = E(200, 200, 403, 403, 404, LOGIN)
EDIT_B = E(200, 404, 404, 403, 404, LOGIN)
EDIT_SHARED = E(200, 403, 403, 403, 403, LOGIN)

# (page, URL from the world, expected status per role)
PAGES: list[tuple[str, Any, dict[str, Any]]] = [
    ("map", lambda w: "/map/", EVERYONE),
    ("audit", lambda w: "/audit/", AUDIT),
    ("well list", lambda w: "/wells/", SCOPED_LIST),
    ("water user list", lambda w: "/water-users/", SCOPED_LIST),
    ("device list", lambda w: "/devices/", SCOPED_LIST),
    ("monitoring well list", lambda w: "/monitoring-wells/", SCOPED_LIST),
    ("zone list", lambda w: "/zones/", EVERYONE),
    ("township list", lambda w: "/townships/", EVERYONE),
    ("well A", lambda w: f"/wells/{w.well_a.pk}/", READ_A),
    ("well B", lambda w: f"/wells/{w.well_b.pk}/", READ_B),
    ("water user A", lambda w: f"/water-users/{w.user_a.pk}/", READ_A),
    ("water user B", lambda w: f"/water-users/{w.user_b.pk}/", READ_B),
    ("device A", lambda w: f"/devices/{w.device_a.pk}/", READ_A),
    ("device B", lambda w: f"/devices/{w.device_b.pk}/", READ_B),
    ("monitoring well A", lambda w: f"/monitoring-wells/{w.monitoring_a.pk}/", READ_A),
    ("monitoring well B", lambda w: f"/monitoring-wells/{w.monitoring_b.pk}/", READ_B),
    ("zone", lambda w: f"/zones/{w.zone.pk}/", EVERYONE),
    ("township A", lambda w: f"/townships/{w.township_a.pk}/", EVERYONE),
    ("township B", lambda w: f"/townships/{w.township_b.pk}/", EVERYONE),
    ("historic township", lambda w: f"/townships/{historic().pk}/", EVERYONE),
    ("new well", lambda w: "/wells/new/", CREATE),
    ("new water user", lambda w: "/water-users/new/", CREATE),
    ("new device", lambda w: "/devices/new/", CREATE),
    ("new monitoring well", lambda w: "/monitoring-wells/new/", CREATE),
    ("new zone", lambda w: "/zones/new/", CREATE_SHARED),
    ("edit well A", lambda w: f"/wells/{w.well_a.pk}/edit/", EDIT_A),
    ("edit well B", lambda w: f"/wells/{w.well_b.pk}/edit/", EDIT_B),
    ("edit water user A", lambda w: f"/water-users/{w.user_a.pk}/edit/", EDIT_A),
    ("edit water user B", lambda w: f"/water-users/{w.user_b.pk}/edit/", EDIT_B),
    ("edit device A", lambda w: f"/devices/{w.device_a.pk}/edit/", EDIT_A),
    ("edit device B", lambda w: f"/devices/{w.device_b.pk}/edit/", EDIT_B),
    ("edit monitoring well A", lambda w: f"/monitoring-wells/{w.monitoring_a.pk}/edit/", EDIT_A),
    ("edit monitoring well B", lambda w: f"/monitoring-wells/{w.monitoring_b.pk}/edit/", EDIT_B),
    ("edit zone", lambda w: f"/zones/{w.zone.pk}/edit/", EDIT_SHARED),
]


def historic() -> Township:
    return Township.objects.get(code="140522200")  # 白桑乡, now 白桑镇


def outcome(response: Any) -> Any:
    if response.status_code == 302 and response["Location"].startswith("/login/"):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize(("page", "url", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_for_every_role(world: Any, page: str, url: Any, expected: dict) -> None:
    target = url(world)
    got = {role: outcome(world.client(role).get(target)) for role in ROLES}
    assert got == expected, target


def test_login_redirect_returns_to_the_page(world: Any) -> None:
    r = world.client("anonymous").get("/wells/?status=active")
    assert r.status_code == 302
    assert r["Location"] == "/login/?next=/wells/%3Fstatus%3Dactive"


# --- Reading tables -------------------------------------------------------------------------------


class _Table(HTMLParser):
    """The text of each <tr> in the <tbody> of the table with a given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth, self.in_body = table_id, 0, False
        self.rows: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.depth or dict(attrs).get("id") == self.table_id:
                self.depth += 1
        elif self.depth == 1 and tag == "tbody":
            self.in_body = True
        elif self.depth == 1 and self.in_body and tag == "tr":
            self.rows.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.depth == 1 and self.in_body and self.rows:
            self.rows[-1] += data.strip() + " "


def table_rows(response: Any, table_id: str) -> list[str]:
    html = response.content.decode()
    assert f'id="{table_id}"' in html, f"no table {table_id}"
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows


def codes(response: Any) -> set[str]:
    return {row.split()[0] for row in table_rows(response, "well-list")}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("bureau", {"W-A-1", "W-B-1"}),
        ("township", {"W-A-1"}),
        ("water_user", {"W-A-1"}),
        ("inspector", {"W-A-1", "W-B-1"}),
    ],
)
def test_well_list_shows_what_the_role_may_see(world: Any, role: str, expected: set) -> None:
    assert codes(world.client(role).get("/wells/")) == expected


@pytest.mark.parametrize(
    ("path", "table", "a_text", "b_text"),
    [
        ("/water-users/", "wateruser-list", "凤城供水站", "北留农业合作社"),
        ("/devices/", "device-list", "0014052201", "1405220002"),
        ("/monitoring-wells/", "monitoringwell-list", "W-A-1", "W-B-1"),
    ],
)
@pytest.mark.parametrize("role", ["township", "water_user"])
def test_other_lists_are_scoped(
    world: Any, role: str, path: str, table: str, a_text: str, b_text: str
) -> None:
    text = " ".join(table_rows(world.client(role).get(path), table))
    assert a_text in text
    assert b_text not in text


def test_shared_lists_show_everything_to_everyone(world: Any) -> None:
    r = world.client("anonymous").get("/townships/")
    assert len(table_rows(r, "township-list")) == Township.objects.count() == 20
    r = world.client("anonymous").get("/zones/")
    assert len(table_rows(r, "zone-list")) == 1


def test_well_list_filters_and_exports_with_the_filters(world: Any) -> None:
    c = world.client("bureau")
    tb = world.township_b.pk
    assert codes(c.get(f"/wells/?township_id={tb}")) == {"W-B-1"}
    assert codes(c.get("/wells/?q=w-a")) == {"W-A-1"}
    assert codes(c.get("/wells/?purpose=agricultural")) == {"W-B-1"}
    assert codes(c.get(f"/wells/?owner_id={world.user_a.pk}")) == {"W-A-1"}
    assert codes(c.get("/wells/?status=closed")) == set()
    r = c.get(f"/wells/?township_id={tb}&layer=shallow")
    html = r.content.decode()
    assert f"/api/wells/export?format=xlsx&amp;township_id={tb}&amp;layer=shallow" in html
    assert f"/api/wells/export?format=csv&amp;township_id={tb}&amp;layer=shallow" in html
    assert f"/api/wells/export?format=geojson&amp;township_id={tb}&amp;layer=shallow" in html
    # The link works and honours the filters.
    csv = c.get(f"/api/wells/export?format=csv&township_id={tb}&layer=shallow")
    assert csv.status_code == 200
    assert "W-B-1" in csv.content.decode("utf-8-sig")
    assert "W-A-1" not in csv.content.decode("utf-8-sig")


def test_invalid_filter_values_are_ignored_not_fatal(world: Any) -> None:
    r = world.client("bureau").get("/wells/?township_id=abc&status=nonsense&page=x")
    assert r.status_code == 200
    assert codes(r) == {"W-A-1", "W-B-1"}


def test_device_and_monitoring_filters_follow_the_well(world: Any) -> None:
    c = world.client("bureau")
    tb = world.township_b.pk
    rows = table_rows(c.get(f"/devices/?township_id={tb}"), "device-list")
    assert [r.split()[0] for r in rows] == ["1405220002"]
    rows = table_rows(c.get("/monitoring-wells/?monitors_quality=true"), "monitoringwell-list")
    assert [r.split()[0] for r in rows] == ["W-B-1"]
    rows = table_rows(c.get("/devices/?active=false"), "device-list")
    assert rows == []
    html = c.get("/monitoring-wells/?monitors_quality=true").content.decode()
    assert "/api/monitoring-wells/export?format=csv&amp;monitors_quality=true" in html


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/water-users/", "water-users"),
        ("/devices/", "devices"),
        ("/monitoring-wells/", "monitoring-wells"),
        ("/zones/", "zones"),
        ("/townships/", "townships"),
    ],
)
def test_every_list_links_to_its_exports(world: Any, path: str, slug: str) -> None:
    html = world.client("bureau").get(path).content.decode()
    assert f'href="/api/{slug}/export?format=xlsx"' in html
    assert f'href="/api/{slug}/export?format=csv"' in html


def test_lists_are_paged(world: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "PAGE_SIZE": 1}
    c = world.client("bureau")
    first = c.get("/wells/")
    assert codes(first) == {"W-A-1"}
    assert "page=2" in first.content.decode()
    assert codes(c.get("/wells/?page=2")) == {"W-B-1"}
    # Paging keeps the filters.
    html = c.get("/wells/?layer=shallow").content.decode()
    assert "?layer=shallow&amp;page=2" in html


def test_htmx_requests_get_only_the_results(world: Any) -> None:
    r = world.client("bureau").get("/wells/?q=W-B", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "<html" not in html
    assert codes(r) == {"W-B-1"}


# --- Detail pages ---------------------------------------------------------------------------------


def test_well_page_shows_derived_location_owner_devices_and_map(world: Any) -> None:
    html = world.client("township").get(f"/wells/{world.well_a.pk}/").content.decode()
    assert "凤城镇" in html  # derived township
    assert "由位置自动确定" in html
    assert f'href="/water-users/{world.user_a.pk}/"' in html and "凤城供水站" in html
    assert "0014052201" in html  # its device
    assert 'id="mini-map"' in html and 'id="mini-map-config"' in html
    assert f'href="/wells/{world.well_a.pk}/edit/"' in html


def test_well_in_a_zone_shows_the_zone(world: Any) -> None:
    w = Well(code="W-Z-1", depth_m=50, layer="shallow", purpose="agricultural")
    w.set_location(112.5895, 35.5199)
    w.save()
    assert w.zone_id == world.zone.pk
    html = world.client("bureau").get(f"/wells/{w.pk}/").content.decode()
    assert f'href="/zones/{world.zone.pk}/"' in html


def test_read_only_roles_get_no_edit_buttons(world: Any) -> None:
    for role in ("water_user", "inspector"):
        html = world.client(role).get(f"/wells/{world.well_a.pk}/").content.decode()
        assert "/edit/" not in html, role
        assert 'id="create-link"' not in world.client(role).get("/wells/").content.decode()
    html = world.client("township").get(f"/zones/{world.zone.pk}/").content.decode()
    assert "/edit/" not in html
    assert 'id="create-link"' in world.client("township").get("/wells/").content.decode()
    assert 'id="create-link"' not in world.client("township").get("/zones/").content.decode()
    assert 'id="create-link"' in world.client("bureau").get("/zones/").content.decode()


def test_detail_page_shows_audit_history_old_and_new(world: Any) -> None:
    c = world.client("bureau")
    r = c.post(f"/wells/{world.well_a.pk}/edit/", well_data(world.well_a, name="新名字"))
    assert r.status_code == 302
    html = c.get(f"/wells/{world.well_a.pk}/").content.decode()
    rows = table_rows(c.get(f"/wells/{world.well_a.pk}/"), "history-list")
    assert len(rows) == 2  # created, then renamed
    assert "bureau" in rows[0] and "修改" in rows[0]
    assert re.search(r'data-field="name".*?—.*?→.*?新名字', html, re.S)


def test_device_page_never_shows_the_secret(world: Any) -> None:
    d = world.device_a
    d.set_secret("top-secret-1")
    d.save()
    html = world.client("bureau").get(f"/devices/{d.pk}/").content.decode()
    assert "top-secret-1" not in html
    assert d.secret_hash not in html
    assert 'id="secret-state"' in html


def test_historic_township_says_so_and_names_its_successor(world: Any) -> None:
    old = historic()
    html = world.client("anonymous").get(f"/townships/{old.pk}/").content.decode()
    assert 'id="historic-notice"' in html
    assert f'href="/townships/{old.successor_id}/"' in html
    assert "白桑镇" in html
    current = world.client("anonymous").get(f"/townships/{old.successor_id}/").content.decode()
    assert 'id="historic-notice"' not in current
    assert "140522200" in current  # its historic code
    assert "示意" in current  # the boundary is approximate


# --- Create and edit ------------------------------------------------------------------------------


def well_data(well: Well | None = None, **changes: Any) -> dict[str, Any]:
    data = {
        "code": "W-NEW-1",
        "name": "",
        "x": 112.418,
        "y": 35.487,
        "crs": 4326,
        "depth_m": "60",
        "layer": "shallow",
        "purpose": "agricultural",
        "status": "active",
        "owner": "",
        "drilled_on": "",
        "notes": "",
    }
    if well is not None:
        data.update(
            code=well.code,
            name=well.name,
            x=well.lon,
            y=well.lat,
            depth_m=str(well.depth_m),
            layer=well.layer,
            purpose=well.purpose,
            status=well.status,
            owner=well.owner_id or "",
        )
    data.update(changes)
    return data


def snapshot() -> dict[str, Any]:
    """Everything the registry holds, to show that a refused request changed nothing."""
    out: dict[str, Any] = {}
    for model in (Well, WaterUser, Device, MonitoringWell, Zone):
        out[model.__name__] = sorted(
            tuple(
                str(getattr(o, f.attname))
                for f in model._meta.concrete_fields
                if f.attname != "updated_at"
            )
            for o in model.objects.all()
        )
    out["audit"] = AuditEntry.objects.exclude(source="security").count()  # not logins, 403s
    return out


def errors(response: Any, field: str) -> str:
    html = response.content.decode()
    m = re.search(rf'<ul class="errorlist" id="errors-{field}">(.*?)</ul>', html, re.S)
    assert m, f"no error on {field}"
    return m.group(1)


def test_township_officer_creates_a_well_in_their_township(world: Any) -> None:
    c = world.client("township")
    r = c.post("/wells/new/", well_data(owner=world.user_a.pk))
    w = Well.objects.get(code="W-NEW-1")
    assert r.status_code == 302 and r["Location"] == f"/wells/{w.pk}/"
    assert w.township_id == world.township_a.pk  # derived, never entered
    assert w.owner_id == world.user_a.pk
    entry = AuditEntry.objects.get(object_type="registry.well", object_id=str(w.pk))
    assert entry.username == "officer_a" and entry.source == "web"


def test_well_coordinates_in_gauss_kruger(world: Any) -> None:
    x, y = Transformer.from_crs(4326, 4546, always_xy=True).transform(112.418, 35.487)
    r = world.client("bureau").post("/wells/new/", well_data(x=x, y=y, crs=4546))
    assert r.status_code == 302
    w = Well.objects.get(code="W-NEW-1")
    assert (w.input_crs, round(w.input_x), round(w.input_y)) == (4546, round(x), round(y))
    assert abs(w.lon - 112.418) < 1e-6 and abs(w.lat - 35.487) < 1e-6


def test_township_officer_cannot_create_a_well_in_another_township(world: Any) -> None:
    before = snapshot()
    r = world.client("township").post("/wells/new/", well_data(x=112.574, y=35.534))
    assert r.status_code == 403
    assert "管辖范围" in r.content.decode()
    assert snapshot() == before


def test_township_officer_cannot_move_a_well_out_of_their_township(world: Any) -> None:
    before = snapshot()
    r = world.client("township").post(
        f"/wells/{world.well_a.pk}/edit/", well_data(world.well_a, x=112.573, y=35.533)
    )
    assert r.status_code == 403
    assert snapshot() == before


B_POSTS = {
    "wells": lambda w: well_data(w.well_b, name="被改"),
    "water-users": lambda w: {
        "name": "被改",
        "use_type": "industrial",
        "township": w.township_a.pk,
    },
    "devices": lambda w: {
        "kind": "rtu",
        "protocol": "MQTT",
        "station_address": "hijack",
        "well": w.well_a.pk,
        "reporting_interval_min": 5,
        "active": "on",
    },
    "monitoring-wells": lambda w: {
        "monitors_level": "on",
        "monitors_quality": "on",
        "network": "national",
    },
}


@pytest.mark.parametrize("path", list(B_POSTS))
def test_post_to_another_townships_record_changes_nothing(world: Any, path: str) -> None:
    b = {
        "wells": world.well_b,
        "water-users": world.user_b,
        "devices": world.device_b,
        "monitoring-wells": world.monitoring_b,
    }[path]
    before = snapshot()
    r = world.client("township").post(f"/{path}/{b.pk}/edit/", B_POSTS[path](world))
    assert r.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("role", ["water_user", "inspector", "public"])
def test_read_only_roles_cannot_post(world: Any, role: str) -> None:
    before = snapshot()
    c = world.client(role)
    assert c.post("/wells/new/", well_data()).status_code == 403
    r = c.post(f"/wells/{world.well_a.pk}/edit/", well_data(world.well_a, name="x"))
    assert r.status_code in (403, 404)
    assert snapshot() == before


def test_anonymous_post_is_sent_to_login(world: Any) -> None:
    before = snapshot()
    r = world.client("anonymous").post("/wells/new/", well_data())
    assert outcome(r) == LOGIN
    assert snapshot() == before


def test_well_outside_the_county_is_refused_next_to_the_coordinates(world: Any) -> None:
    before = snapshot()
    r = world.client("bureau").post("/wells/new/", well_data(x=116.4, y=39.9))
    assert r.status_code == 200
    assert "不在县域内" in errors(r, "x")
    assert snapshot() == before


def test_duplicate_well_code_is_refused(world: Any) -> None:
    before = snapshot()
    r = world.client("bureau").post("/wells/new/", well_data(code="W-A-1"))
    assert r.status_code == 200
    assert "编号" in errors(r, "code")
    assert snapshot() == before


def test_bad_input_keeps_what_was_entered(world: Any) -> None:
    r = world.client("bureau").post("/wells/new/", well_data(code="W-A-1", notes="留着"))
    html = r.content.decode()
    assert "留着" in html and 'value="112.418"' in html


def test_forbidden_status_change_is_refused(world: Any) -> None:
    w = world.well_a
    w.status = "closed"
    w.save()
    w.status = "sealed"
    w.save()
    before = snapshot()
    r = world.client("bureau").post(f"/wells/{w.pk}/edit/", well_data(w, status="active"))
    assert r.status_code == 200
    assert "封存" in errors(r, "status")
    assert snapshot() == before


def test_water_user_with_a_wrong_uscc_check_digit_is_refused(world: Any) -> None:
    before = snapshot()
    r = world.client("bureau").post(
        "/water-users/new/",
        {
            "name": "某公司",
            "uscc": "91110000600037341K",
            "use_type": "industrial",
            "township": world.township_a.pk,
        },
    )
    assert r.status_code == 200
    assert "校验位" in errors(r, "uscc")
    assert snapshot() == before


def test_water_user_with_a_duplicate_uscc_is_refused(world: Any) -> None:
    before = snapshot()
    r = world.client("bureau").post(
        "/water-users/new/",
        {
            "name": "某公司",
            "uscc": "91110000600037341L",
            "use_type": "industrial",
            "township": world.township_a.pk,
        },
    )
    assert r.status_code == 200
    assert "已登记" in r.content.decode()
    assert snapshot() == before


def test_township_officer_registers_water_users_only_in_their_township(world: Any) -> None:
    c = world.client("township")
    html = c.get("/water-users/new/").content.decode()
    assert f'value="{world.township_a.pk}"' in html
    assert f'value="{world.township_b.pk}"' not in html
    before = snapshot()
    r = c.post(
        "/water-users/new/",
        {"name": "越界", "use_type": "industrial", "township": world.township_b.pk},
    )
    assert r.status_code == 200 and errors(r, "township")
    assert snapshot() == before
    r = c.post(
        "/water-users/new/",
        {
            "name": "本镇用户",
            "use_type": "industrial",
            "township": world.township_a.pk,
            "phone": "0356-1234567",
        },
    )
    assert r.status_code == 302
    assert WaterUser.objects.get(name="本镇用户").township_id == world.township_a.pk


def test_device_secret_is_write_only(world: Any) -> None:
    c = world.client("township")
    data = {
        "kind": "flow_meter",
        "protocol": "MQTT",
        "station_address": "rtu-1",
        "secret": "s3cret-key",
        "well": world.well_a.pk,
        "reporting_interval_min": 15,
        "active": "on",
    }
    r = c.post("/devices/new/", data)
    assert r.status_code == 302
    d = Device.objects.get(station_address="rtu-1")
    assert d.check_secret("s3cret-key")
    assert "s3cret-key" not in c.get(f"/devices/{d.pk}/edit/").content.decode()
    # Left blank on edit, the secret stays.
    r = c.post(f"/devices/{d.pk}/edit/", {**data, "secret": "", "manufacturer": "某厂"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.manufacturer == "某厂" and d.check_secret("s3cret-key")


def test_device_errors_are_next_to_their_fields(world: Any) -> None:
    before = snapshot()
    c = world.client("bureau")
    r = c.post(
        "/devices/new/",
        {
            "kind": "rtu",
            "protocol": "SL651",
            "station_address": "xyz",
            "secret": "ab",
            "reporting_interval_min": 60,
        },
    )
    assert r.status_code == 200
    assert "密钥" in errors(r, "secret")
    assert "十六进制" in errors(r, "station_address")
    assert "ab" not in re.findall(r'name="secret"[^>]*>', r.content.decode())[0]
    assert snapshot() == before


def test_device_on_a_well_out_of_sight_cannot_be_chosen(world: Any) -> None:
    before = snapshot()
    r = world.client("township").post(
        "/devices/new/",
        {
            "kind": "rtu",
            "protocol": "MQTT",
            "station_address": "rtu-x",
            "well": world.well_b.pk,
            "reporting_interval_min": 60,
        },
    )
    assert r.status_code == 200 and errors(r, "well")
    assert snapshot() == before


def test_device_without_a_well_is_outside_a_township_officers_scope(world: Any) -> None:
    before = snapshot()
    r = world.client("township").post(
        "/devices/new/",
        {
            "kind": "rtu",
            "protocol": "MQTT",
            "station_address": "rtu-y",
            "reporting_interval_min": 60,
        },
    )
    assert r.status_code == 403
    assert snapshot() == before


def test_zone_geometry_is_validated_and_saved(world: Any) -> None:
    c = world.client("bureau")
    data = {
        "code": "Z-1",
        "name": "新分区",
        "kind": "balanced",
        "layer": "deep",
        "allowable_extraction_m3": 1000,
        "designation_document": "测试文件",
        "geometry": '{"type": "Polygon", "coordinates": [[[112.3, 35.6], [112.31, 35.6]]]}',
    }
    before = snapshot()
    r = c.post("/zones/new/", data)
    assert r.status_code == 200 and "ring" in errors(r, "geometry")
    r = c.post("/zones/new/", {**data, "geometry": "not json"})
    assert r.status_code == 200 and errors(r, "geometry")
    far = '{"type":"Polygon","coordinates":[[[116.3,39.9],[116.4,39.9],[116.4,40],[116.3,39.9]]]}'
    r = c.post("/zones/new/", {**data, "geometry": far})
    assert r.status_code == 200 and errors(r, "geometry")
    assert snapshot() == before
    ok = (
        '{"type":"Polygon","coordinates":[[[112.3,35.6],[112.31,35.6],[112.31,35.61],'
        "[112.3,35.61],[112.3,35.6]]]}"
    )
    r = c.post("/zones/new/", {**data, "geometry": ok})
    assert r.status_code == 302
    assert Zone.objects.get(code="Z-1").area_km2 > 0


def test_monitoring_well_must_monitor_something(world: Any) -> None:
    w = Well(code="MW-1", depth_m=40, layer="shallow", purpose="monitoring")
    w.set_location(112.419, 35.488)
    w.save()
    c = world.client("township")
    before = snapshot()
    r = c.post("/monitoring-wells/new/", {"well": w.pk, "network": "county"})
    assert r.status_code == 200
    assert 'id="form-errors"' in r.content.decode()
    assert snapshot() == before
    r = c.post(
        "/monitoring-wells/new/", {"well": w.pk, "network": "county", "monitors_level": "on"}
    )
    assert r.status_code == 302
    assert MonitoringWell.objects.filter(well=w).exists()


def test_create_links_may_preset_a_field(world: Any) -> None:
    html = world.client("bureau").get(f"/devices/new/?well={world.well_a.pk}").content.decode()
    assert re.search(rf'<option value="{world.well_a.pk}" selected>', html)


# --- The map and the shell ------------------------------------------------------------------------


def test_map_page_is_self_contained(world: Any) -> None:
    html = world.client("bureau").get("/map/").content.decode()
    assert 'id="map"' in html and 'id="well-count"' in html
    assert "/static/leaflet/leaflet.js" in html and "/static/leaflet/leaflet.css" in html
    assert "/static/aquifer/map.js" in html and "/static/django_htmx/htmx-2.min.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "no CDN or external links"
    assert 'id="approx-note"' in html and "示意" in html
    for colour in [*ZONE_COLOURS.values(), *WELL_STATUS_COLOURS.values()]:
        assert colour in html
    assert "/api/map/wells.geojson" in html and "/api/map/zones.geojson" in html
    assert "/api/map/townships.geojson" in html


def test_public_map_has_no_well_legend(world: Any) -> None:
    html = world.client("anonymous").get("/map/").content.decode()
    assert 'id="well-legend"' not in html
    assert '"showWells": false' in html
    assert 'id="zone-legend"' in html


def test_tile_layer_only_when_configured(world: Any, settings: Any) -> None:
    html = world.client("anonymous").get("/map/").content.decode()
    assert '"tileUrl": ""' in html
    settings.AQUIFER = {**settings.AQUIFER, "TILE_URL": "http://tiles.local/{z}/{x}/{y}.png"}
    html = world.client("anonymous").get("/map/").content.decode()
    assert "http://tiles.local/{z}/{x}/{y}.png" in html


@pytest.mark.parametrize(
    "path",
    [
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "django_htmx/htmx-2.min.js",
        "aquifer/map.js",
        "aquifer/app.css",
    ],
)
def test_static_files_ship_with_the_app(path: str) -> None:
    assert finders.find(path), path


NAV = {
    "wells": Well,
    "water-users": WaterUser,
    "devices": Device,
    "monitoring-wells": MonitoringWell,
    "zones": Zone,
    "townships": Township,
}


@pytest.mark.parametrize("role", ROLES)
def test_nav_offers_what_the_role_may_open(world: Any, role: str) -> None:
    html = world.client(role).get("/map/").content.decode()
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    user = world.accounts.get(role)
    for key, model in NAV.items():
        assert (f'data-nav="{key}"' in nav) == can(user, Action.VIEW, model), key
    assert ('data-nav="audit"' in nav) == (role in ("bureau", "township", "inspector"))
    assert ('data-nav="import"' in nav) == can(user, Action.ADD, Well)
    assert 'href="/import/"' in nav or role not in ("bureau", "township")


def test_header_shows_user_and_role(world: Any) -> None:
    html = world.client("township").get("/").content.decode()
    menu = re.search(r'<details class="nav-group account".*?</details>', html, re.S).group(0)
    assert '<summary class="who" id="who" title="乡镇工作人员">officer_a</summary>' in menu
    assert '<span class="menu-note">乡镇工作人员</span>' in menu
    assert 'action="/logout/"' in menu and 'action="/i18n/setlang/"' in html
    # the language switch offers the other language only, in its own words
    switch = re.search(r'<form[^>]*id="language-form".*?</form>', html, re.S).group(0)
    assert 'value="en"' in switch and 'value="zh-hans"' not in switch and "English" in switch


def test_login_and_logout(world: Any) -> None:
    from django.test import Client

    c = Client()
    assert c.get("/login/").status_code == 200
    r = c.post(
        "/login/", {"username": "officer_a", "password": "Aquifer-test-2026", "next": "/wells/"}
    )
    assert r.status_code == 302 and r["Location"] == "/wells/"
    assert c.get("/wells/").status_code == 200
    assert c.get("/logout/").status_code == 405  # logging out takes a POST
    assert c.post("/logout/").status_code == 302
    assert outcome(c.get("/wells/")) == LOGIN
    r = c.post("/login/", {"username": "officer_a", "password": "wrong"})
    assert r.status_code == 200 and 'id="login-form"' in r.content.decode()


# --- The audit page -------------------------------------------------------------------------------


def test_audit_page_follows_scope_and_filters(world: Any) -> None:
    c = world.client("township")
    rows = table_rows(c.get("/audit/?object_type=registry.well"), "audit-list")
    assert len(rows) == 1 and "W-A-1" in rows[0]
    all_rows = " ".join(table_rows(c.get("/audit/"), "audit-list"))
    assert "W-B-1" not in all_rows and "北留" not in all_rows
    b = " ".join(
        table_rows(world.client("bureau").get("/audit/?object_type=registry.well"), "audit-list")
    )
    assert "W-A-1" in b and "W-B-1" in b
    world.client("bureau").post(
        f"/wells/{world.well_a.pk}/edit/", well_data(world.well_a, name="改")
    )
    rows = table_rows(world.client("bureau").get("/audit/?username=bureau"), "audit-list")
    assert len(rows) == 1 and "W-A-1" in rows[0]


def test_audit_page_is_paged(world: Any, settings: Any) -> None:
    settings.AQUIFER = {**settings.AQUIFER, "PAGE_SIZE": 2}
    c = world.client("bureau")
    assert len(table_rows(c.get("/audit/"), "audit-list")) == 2
    assert "page=2" in c.get("/audit/").content.decode()


# --- The admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(world: Any) -> Any:
    from django.test import Client

    from aquifer.core.models import User

    admin = User.objects.create_superuser("root", password="Aquifer-test-2026")
    c = Client()
    c.force_login(admin)
    return c


@pytest.mark.parametrize(
    "model",
    [
        "registry/township",
        "registry/zone",
        "registry/wateruser",
        "registry/well",
        "registry/monitoringwell",
        "registry/device",
        "core/user",
        "core/apitoken",
        "core/auditentry",
    ],
)
def test_admin_lists_every_model(admin_client: Any, model: str) -> None:
    assert admin_client.get(f"/admin/{model}/").status_code == 200


def test_admin_audit_entries_are_read_only(admin_client: Any, world: Any) -> None:
    entry = AuditEntry.objects.first()
    assert admin_client.get("/admin/core/auditentry/add/").status_code == 403
    assert admin_client.get(f"/admin/core/auditentry/{entry.pk}/delete/").status_code == 403
    page = admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_admin_well_form_derives_the_township(admin_client: Any, world: Any) -> None:
    assert admin_client.get("/admin/registry/well/add/").status_code == 200
    r = admin_client.post(
        "/admin/registry/well/add/",
        {
            "code": "W-ADM-1",
            "status": "active",
            "layer": "shallow",
            "purpose": "domestic",
            "depth_m": "30",
            "x": 112.574,
            "y": 35.534,
            "crs": 4326,
            "notes": "",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Well.objects.get(code="W-ADM-1").township_id == world.township_b.pk


def test_well_page_charts_its_readings(world: Any) -> None:
    """The well page carries the series chart, pointed at that well's series endpoint."""
    r = world.client("township").get(f"/wells/{world.well_a.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert f'id="series-chart-{world.well_a.pk}"' in html
    assert f"/api/wells/{world.well_a.pk}/series" in html
    assert "plotly" in html and "series.js" in html


def test_township_history_notes_read_in_english(world: Any) -> None:
    """Issue 14 point 13: the notes shipped with the division data are translated."""
    from django.conf import settings

    from aquifer.registry.models import Township

    gulong = Township.objects.get(code="140522204")  # loaded with the division data
    assert gulong.change_note == "已撤销（2020-06-30 至 2021-10-31 间）；并入何镇未查明"
    c = world.client("bureau")
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = c.get("/townships/").content.decode()
    assert "the town it merged into is not known" in body and "并入何镇" not in body
    detail = c.get(gulong.get_absolute_url()).content.decode()
    assert "Abolished (between 2020-06-30 and 2021-10-31)" in detail
