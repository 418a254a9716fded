"""Demo data of township supervision, on top of the registry, monitoring and permits demos.

- a work plan of this year for every township (the 北留镇 and 凤城镇 demo officers draft
  theirs; the bureau the others'): tasks of the charter's kinds, approved — one returned with
  comments and resubmitted, one still awaiting approval — progress entered for the tasks
  Aquifer does not measure and computed for the others, overdue tasks notified;
- the year's targets from the computed defaults, one changed by the bureau with a note;
- the assessment computed by the default method, one score adjusted with a reason, the
  ranking published;
- inspections in six townships with findings and rectification orders: closed, answered,
  open, overdue (its deadline set in the past: demo history) and one sent back twice (which
  opens an accountability record).

Everything goes through ``supervision.services`` (scope, audit, notifications) and is keyed by
township and year, or inspection subject and date, so a second run adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from aquifer.core.audit import audit_context
from aquifer.registry.models import Township
from aquifer.supervision import services
from aquifer.supervision.models import (
    Assessment,
    AssessmentState,
    Inspection,
    Rectification,
    TaskKind,
    WorkPlan,
)

__all__ = ["build"]

SEED = 20261206

TASKS: list[tuple[str, str, float, str, int]] = [
    # kind, title, target, unit, deadline month
    (TaskKind.CLOSE_WELLS, "关停禁采区内自备井", 3, "眼", 9),
    (TaskKind.INSTALL_METERS, "农业灌溉井安装计量设施", 8, "套", 6),
    (TaskKind.ONLINE_RATE, "在线计量设施到报率", 95, "%", 12),
    (TaskKind.REPAIR_MONITORING_WELLS, "维修损坏的监测井", 1, "眼", 5),
    (TaskKind.INSPECTIONS, "开展取用水专项检查", 4, "次", 11),
    (TaskKind.PUBLICITY, "“世界水日”节水宣传", 2, "次", 3),
]


def _user(username: str) -> Any:
    return get_user_model().objects.filter(username=username, is_active=True).first()


def _plans(year: int, bureau: Any, rng: random.Random, say: Callable[[str], Any]) -> None:
    officers = {
        u.township_id: u for u in get_user_model().objects.filter(role="township", is_active=True)
    }
    towns = list(Township.objects.order_by("code"))
    made = 0
    for k, township in enumerate(towns):
        if WorkPlan.objects.filter(township=township, year=year).exists():
            continue
        author = officers.get(township.pk, bureau)
        plan = services.open_plan(by=author, township=township, year=year)
        for kind, title, target, unit, month in TASKS:
            services.add_task(
                by=author,
                plan=plan,
                kind=kind,
                title=title,
                target=target,
                unit=unit,
                deadline=dt.date(year, month, 28),
                responsible=f"{township.name}水利站",
            )
        services.submit_plan(by=author, plan=plan)
        if k == 1:
            services.return_plan(
                by=bureau, plan=plan, comment="关停目标偏低，请按禁采区在用井数调整。"
            )
            services.add_task(
                by=author,
                plan=plan,
                kind=TaskKind.RECTIFICATIONS,
                title="完成督查整改",
                target=2,
                unit="项",
                deadline=dt.date(year, 12, 15),
                responsible="镇长",
            )
            services.submit_plan(by=author, plan=plan)
        if k == 2:
            continue  # awaiting the bureau's decision
        services.approve_plan(by=bureau, plan=plan, comment="同意。")
        today = timezone.localdate()
        for task in plan.tasks.filter(progress_computed=False):
            share = (
                rng.choice([0.25, 0.5, 1.0, 1.0]) if task.deadline < today else rng.random() * 0.6
            )
            services.set_progress(
                by=author, task=task, progress=round(task.target * share, 1), note="演示填报"
            )
        made += 1
    services.compute_progress(year)
    n = services.notify_overdue_tasks()
    say(f"工作计划 {made} 份，逾期提醒 {n} 条")


def _inspections(year: int, bureau: Any, inspector: Any, say: Callable[[str], Any]) -> None:
    today = timezone.localdate()
    towns = list(Township.objects.order_by("code")[:6])
    plan = [
        (
            "取水计量设施专项检查",
            "水表铅封破损、读数无法辨认",
            "《地下水管理条例》第四十三条",
            "closed",
        ),
        ("禁采区自备井关停核查", "禁采区内仍有自备井取水", "禁采区管理规定", "overdue"),
        ("监测井运行检查", "监测井井口保护设施损坏", "计划任务：维修监测井", "answered"),
        ("取水许可执行检查", "超许可水量取水", "《取水许可和水资源费征收管理条例》", "open"),
        ("在线计量到报检查", "在线计量设施长期不上报", "考核目标：数据到报率", "sent_back"),
        ("节水宣传落实检查", "宣传材料未按计划发放", "计划任务：宣传活动", "closed"),
    ]
    made = 0
    for k, (township, (subject, problem, rule, fate)) in enumerate(zip(towns, plan, strict=False)):
        date = today - dt.timedelta(days=60 - 7 * k)
        if Inspection.objects.filter(township=township, subject=subject, date=date).exists():
            continue
        who = inspector or bureau
        inspection = services.record_inspection(
            by=who,
            township=township,
            date=date,
            subject=subject,
            place=f"{township.name}",
            lon=None,
            lat=None,
            summary="现场查看取水设施和台账。",
        )
        finding = services.add_finding(
            by=who, inspection=inspection, description=problem, rule=rule, severity="major"
        )
        order = services.issue_order(
            by=who,
            finding=finding,
            requirement=f"整改：{problem}",
            responsible=f"{township.name}人民政府",
        )
        officer = (
            get_user_model()
            .objects.filter(role="township", township=township, is_active=True)
            .first()
            or bureau
        )
        if fate == "overdue":
            # Demo history: the order was issued two months ago with a 30-day deadline.
            Rectification.objects.filter(pk=order.pk).update(
                issued_at=timezone.now() - dt.timedelta(days=60),
                deadline=today - dt.timedelta(days=30),
            )
        elif fate in ("closed", "answered", "sent_back"):
            services.answer_order(
                by=officer, order=order, evidence="已整改，附现场照片和台账复印件。"
            )
            if fate == "closed":
                services.verify_order(
                    by=bureau, order=order, accept=True, note="经核查已整改到位。"
                )
            elif fate == "sent_back":
                services.verify_order(
                    by=bureau, order=order, accept=False, note="佐证材料不足，请补充。"
                )
                services.answer_order(by=officer, order=order, evidence="补充了设备维修记录。")
                services.verify_order(by=bureau, order=order, accept=False, note="仍未恢复上报。")
        made += 1
    n = services.escalate_overdue_orders()
    say(f"督查检查 {made} 次，逾期升级 {n} 项")


def _assessment(year: int, bureau: Any, say: Callable[[str], Any]) -> None:
    services.fill_default_targets(by=bureau, year=year)
    a = Assessment.objects.filter(year=year).first()
    if a is not None and a.state == AssessmentState.FROZEN:
        return
    a = services.compute_assessment(by=bureau, year=year)
    score = a.scores.order_by("township__code").first()
    if score is not None and not score.adjustments.exists():
        services.adjust_score(
            by=bureau,
            score=score,
            points=2,
            reason="汛期关停任务经现场核实已完成，系统尚未更新井状态。",
        )
    services.publish_assessment(by=bureau, year=year)
    top = a.scores.order_by("rank").select_related("township").first()
    say(f"考核已计算并公布，第一名 {top.township.name if top else '—'}")


def build(log: Callable[[str], Any] = print) -> None:
    bureau = _user("bureau")
    if bureau is None:
        log("无 bureau 演示账号，跳过")
        return
    inspector = _user("inspector")
    year = timezone.localdate().year
    rng = random.Random(SEED)
    with audit_context(user=bureau, source="demo"):
        _plans(year, bureau, rng, log)
        _inspections(year, bureau, inspector, log)
        _assessment(year, bureau, log)
