"""Annual work plans: drafting in scope, submit / return / approve with every version kept,
progress entered or computed, overdue tasks notified once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from aquifer.notifications.models import Notice
from aquifer.supervision import services
from aquifer.supervision.models import PlanTask, WorkPlan
from tests.supervision.conftest import YEAR, post

pytestmark = pytest.mark.django_db

TASK = {
    "kind": "install_meters",
    "title": "安装计量设施",
    "target": 10,
    "unit": "套",
    "deadline": f"{YEAR}-10-31",
    "responsible": "王五",
}


def test_plan_cycle_through_the_api(world: Any, officer_b: Any) -> None:
    officer = world.client("township")
    r = post(officer, "/api/supervision/plans/", {"township_id": world.township_a.pk, "year": YEAR})
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    # Another township's officer neither sees it nor can create a plan for township A.
    c_b = world.client("bureau")
    c_b.force_login(officer_b)
    assert c_b.get(f"/api/supervision/plans/{pk}").status_code == 404
    r = post(c_b, "/api/supervision/plans/", {"township_id": world.township_a.pk, "year": YEAR})
    assert r.status_code == 404  # the existing plan is out of sight
    r = post(officer, "/api/supervision/plans/", {"township_id": world.township_b.pk, "year": YEAR})
    assert r.status_code == 403  # nor may officer A draft township B's plan
    # A task with a deadline outside the year is refused naming the field.
    bad = post(
        officer, f"/api/supervision/plans/{pk}/tasks", {**TASK, "deadline": f"{YEAR + 1}-01-31"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "deadline"
    assert post(officer, f"/api/supervision/plans/{pk}/tasks", TASK).status_code == 201
    assert (
        post(officer, f"/api/supervision/plans/{pk}/actions", {"action": "submit"}).status_code
        == 200
    )
    # Submitted: the township cannot change it any more, nor approve it.
    assert post(officer, f"/api/supervision/plans/{pk}/tasks", TASK).status_code == 422
    assert (
        post(officer, f"/api/supervision/plans/{pk}/actions", {"action": "approve"}).status_code
        == 403
    )
    bureau = world.client("bureau")
    r = post(bureau, f"/api/supervision/plans/{pk}/actions", {"action": "return"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "comment"
    r = post(
        bureau, f"/api/supervision/plans/{pk}/actions", {"action": "return", "comment": "目标偏低"}
    )
    assert r.json()["state"] == "returned"
    assert (
        post(officer, f"/api/supervision/plans/{pk}/tasks", {**TASK, "target": 20}).status_code
        == 201
    )
    post(officer, f"/api/supervision/plans/{pk}/actions", {"action": "submit"})
    r = post(bureau, f"/api/supervision/plans/{pk}/actions", {"action": "approve"})
    body = r.json()
    assert body["state"] == "approved" and body["version"] == 2
    # Every version kept: submit v1, return v1 (with comment), submit v2, approve v2.
    assert [(v["version"], v["state"]) for v in body["versions"]] == [
        (1, "submitted"),
        (1, "returned"),
        (2, "submitted"),
        (2, "approved"),
    ]
    assert len(body["versions"][0]["tasks"]) == 1 and len(body["versions"][3]["tasks"]) == 2
    assert Notice.objects.filter(event="plan.submitted").count() == 2
    assert Notice.objects.filter(event="plan.decided").count() == 2


def test_progress_entered_and_computed(world: Any, approved_plan: WorkPlan) -> None:
    close, publicity = approved_plan.tasks.order_by("pk")
    c = world.client("township")
    # Measured by Aquifer: not entered by hand.
    r = post(c, f"/api/supervision/tasks/{close.pk}/progress", {"progress": 5})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "progress"
    r = post(c, f"/api/supervision/tasks/{publicity.pk}/progress", {"progress": 3, "note": "三场"})
    assert r.status_code == 200 and r.json()["progress"] == 3
    assert post(
        world.client("water_user"),
        f"/api/supervision/tasks/{publicity.pk}/progress",
        {"progress": 4},
    ).status_code in (403, 404)
    world.well_a.status = "closed"
    world.well_a.save()
    assert services.compute_progress(YEAR) == 1
    close.refresh_from_db()
    assert close.progress == 1 and not close.done


def test_overdue_tasks_notified_once(world: Any, approved_plan: WorkPlan) -> None:
    today = dt.date(YEAR, 1, 2)  # the publicity task's deadline (1 January) has passed
    assert services.notify_overdue_tasks(today) == 1
    assert services.notify_overdue_tasks(today) == 0
    notice = Notice.objects.get(event="task.overdue")
    assert notice.township_id == world.township_a.pk
    assert PlanTask.objects.filter(overdue_notified_at__isnull=False).count() == 1


def test_plan_pages(world: Any, approved_plan: WorkPlan) -> None:
    c = world.client("township")
    r = c.get(f"/supervision/?year={YEAR}")
    assert r.status_code == 200 and "凤城镇" in r.content.decode()
    r = c.get(approved_plan.get_absolute_url())
    assert r.status_code == 200 and b'id="task-list"' in r.content
    # Bad input on the page: a form error, not a 500.
    task = approved_plan.tasks.get(kind="publicity")
    r = c.post(
        f"/supervision/plans/{approved_plan.pk}/act",
        {"action": "progress", "task": task.pk, "progress": "x"},
    )
    assert r.status_code == 422 and b"plan-errors" in r.content
    assert world.client("water_user").get(approved_plan.get_absolute_url()).status_code in (
        403,
        404,
    )


def test_daily_job(world: Any, approved_plan: WorkPlan) -> None:
    from aquifer.core.jobs import discover
    from aquifer.supervision.jobs import daily_supervision

    assert "supervision.daily" in discover()
    world.well_a.status = "closed"
    world.well_a.save()
    daily_supervision()
    assert approved_plan.tasks.get(kind="close_wells").progress == 1


def test_bad_ids_on_pages_are_not_500(world: Any, approved_plan: WorkPlan) -> None:
    c = world.client("township")
    url = f"/supervision/plans/{approved_plan.pk}/act"
    assert c.post(url, {"action": "progress", "task": "abc", "progress": "1"}).status_code == 404
    assert c.post(f"/supervision/?year={YEAR}", {"township": "x"}).status_code == 404
    b = world.client("bureau")
    r = b.post(f"/supervision/targets/?year={YEAR}", {"township": "x", "indicator": "closures"})
    assert r.status_code == 422
