"""Targets with computed defaults; the assessment: method as data, provisional and frozen
scores, evidence, adjustment with a reason, ranking, publication, export."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aquifer.core.models import AuditEntry
from aquifer.registry.models import Township, Well
from aquifer.supervision import services
from aquifer.supervision.models import Score, Target
from aquifer.supervision.scoring import DEFAULT_METHOD, indicator_points
from tests.conftest import HUANGCHENG
from tests.supervision.conftest import YEAR, post

pytestmark = pytest.mark.django_db


def test_indicator_points() -> None:
    spec = {"weight": 10, "zero_at": 0.5}
    assert indicator_points(spec, 0.95, 0.95) == 10
    assert indicator_points(spec, 0.5, 1.0) == 0
    assert indicator_points(spec, 0.75, 1.0) == 5
    assert indicator_points({**spec, "better": "lower"}, 200.0, 100.0) == 0  # twice the cap
    assert indicator_points({**spec, "better": "lower"}, 0.0, 100.0) == 10
    assert indicator_points(spec, None, 1.0) == 10  # nothing to measure


def test_targets_defaults_and_audit(world: Any) -> None:
    w = Well(code="W-JC-1", depth_m=60, layer="shallow", purpose="industrial", owner=world.user_b)
    w.set_location(*HUANGCHENG)
    w.save()
    assert w.zone == world.zone
    bureau = world.client("bureau")
    r = post(bureau, f"/api/supervision/targets/defaults?year={YEAR}", {})
    assert r.status_code == 200 and r.json()["created"] > 0
    t = Target.objects.get(township=w.township, year=YEAR, indicator="closures")
    # A well in use in the prohibited zone: one well to close.
    assert t.value == 1 and t.basis["prohibited_in_use"] == 1
    r = post(
        bureau,
        "/api/supervision/targets/",
        {
            "township_id": world.township_a.pk,
            "year": YEAR,
            "indicator": "arrival_rate",
            "value": 0.97,
        },
    )
    assert r.status_code == 201 and r.json()["default_value"] == 0.95
    assert AuditEntry.objects.filter(object_type="supervision.target", action="update").exists()
    officer = world.client("township")
    r = post(
        officer,
        "/api/supervision/targets/",
        {
            "township_id": world.township_a.pk,
            "year": YEAR,
            "indicator": "arrival_rate",
            "value": 0.5,
        },
    )
    assert r.status_code == 403
    mine = officer.get(f"/api/supervision/targets/?year={YEAR}").json()
    assert mine and {t["township_id"] for t in mine} == {world.township_a.pk}


def test_method_is_validated_data(world: Any) -> None:
    bureau = world.client("bureau")
    bad = {"indicators": [{"code": "nonsense", "weight": 1}]}
    r = post(bureau, "/api/supervision/methods/", {"year": YEAR, "definition": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "definition"
    r = post(bureau, "/api/supervision/methods/", {"year": YEAR, "definition": DEFAULT_METHOD})
    assert r.status_code == 201 and r.json()["version"] == 1
    assert (
        post(
            world.client("township"),
            "/api/supervision/methods/",
            {"year": YEAR, "definition": DEFAULT_METHOD},
        ).status_code
        == 403
    )


def test_scores_ranking_publication_and_evidence(world: Any) -> None:
    bureau = world.client("bureau")
    assert (
        post(
            world.client("township"),
            f"/api/supervision/assessments/{YEAR}/actions",
            {"action": "compute"},
        ).status_code
        == 403
    )
    r = post(bureau, f"/api/supervision/assessments/{YEAR}/actions", {"action": "compute"})
    assert r.status_code == 200, r.content
    body = r.json()
    n = Township.objects.count()
    assert body["state"] == "provisional" and len(body["scores"]) == n
    assert sorted(s["rank"] for s in body["scores"])[0] == 1
    b = next(s for s in body["scores"] if s["township_id"] == world.township_b.pk)
    a = next(s for s in body["scores"] if s["township_id"] == world.township_a.pk)
    meters = next(i for i in b["details"]["indicators"] if i["code"] == "meter_coverage")
    assert meters["value"] == 0 and meters["points"] == 0  # its one well has no flow meter
    assert a["total"] > b["total"]
    # Evidence: the well behind township B's meter coverage: the unmetered one.
    r = bureau.get(
        f"/api/supervision/assessments/{YEAR}/townships/{world.township_b.pk}/evidence/meter_coverage"
    )
    assert r.status_code == 200 and r.json()["model"] == "registry.well"
    assert [i["id"] for i in r.json()["items"]] == [world.well_b.pk]  # no flow meter
    # Before publication: a township sees only its own score; the public nothing.
    officer = world.client("township")
    own = officer.get(f"/api/supervision/assessments/{YEAR}").json()["scores"]
    assert [s["township_id"] for s in own] == [world.township_a.pk]
    assert (
        world.client("anonymous").get(f"/api/supervision/assessments/{YEAR}").json()["scores"] == []
    )
    assert (
        officer.get(
            f"/api/supervision/assessments/{YEAR}/townships/{world.township_b.pk}/evidence/closures"
        ).status_code
        == 404
    )
    # Adjustment: only with a reason, audited, re-ranked.
    score_b = Score.objects.get(township=world.township_b)
    r = post(bureau, f"/api/supervision/scores/{score_b.pk}/adjust", {"points": 50, "reason": " "})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = post(
        bureau,
        f"/api/supervision/scores/{score_b.pk}/adjust",
        {"points": 50, "reason": "关停工作已完成，待系统更新"},
    )
    assert r.status_code == 200 and r.json()["rank"] == 1
    assert AuditEntry.objects.filter(object_type="supervision.scoreadjustment").exists()
    assert (
        post(
            officer, f"/api/supervision/scores/{score_b.pk}/adjust", {"points": 1, "reason": "x"}
        ).status_code
        == 404
    )
    # Publish: everybody sees the ranking.
    post(bureau, f"/api/supervision/assessments/{YEAR}/actions", {"action": "publish"})
    assert len(officer.get(f"/api/supervision/assessments/{YEAR}").json()["scores"]) == n
    assert (
        len(world.client("anonymous").get(f"/api/supervision/assessments/{YEAR}").json()["scores"])
        == n
    )
    # Freeze: no more recomputation or adjustment.
    assert (
        post(bureau, f"/api/supervision/assessments/{YEAR}/actions", {"action": "freeze"}).json()[
            "state"
        ]
        == "frozen"
    )
    r = post(bureau, f"/api/supervision/assessments/{YEAR}/actions", {"action": "compute"})
    assert r.status_code == 422
    r = bureau.get(f"/api/supervision/assessments/{YEAR}/export?format=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_pages(world: Any) -> None:
    services.compute_assessment(year=YEAR)
    bureau = world.client("bureau")
    r = bureau.get(f"/supervision/assessment/{YEAR}/")
    assert r.status_code == 200 and b'id="ranking"' in r.content
    r = bureau.get(f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/")
    assert r.status_code == 200 and b'id="score-lines"' in r.content
    r = bureau.post(
        f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/",
        {"points": "2", "reason": ""},
    )
    assert r.status_code == 422
    r = bureau.get(
        f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/evidence/closures/"
    )
    assert r.status_code == 200
    r = bureau.get(f"/supervision/assessment/{YEAR}/pdf")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = bureau.get(f"/supervision/assessment/{YEAR}/pdf?township={world.township_a.pk}")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert (
        world.client("anonymous")
        .get(f"/supervision/assessment/{YEAR}/townships/{world.township_a.pk}/")
        .status_code
        == 404
    )


def test_query_count_independent_of_wells(world: Any) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            services.compute_assessment(year=YEAR)
        return len(ctx.captured_queries)

    count()
    before = count()
    for k in range(10):
        w = Well(
            code=f"W-X-{k}", depth_m=50, layer="shallow", purpose="agricultural", owner=world.user_a
        )
        w.set_location(112.417 + k * 0.001, 35.486)
        w.save()
    assert count() == before
