"""What the governance apps below the portal publish on it, and the cases a complaint opens
(the extension points of :mod:`aquifer.portal.panels`, filled in ``PortalConfig.ready()``).

- ``closure``: this year's closure programme per township (planned, closed, verified);
- ``assessment``: the latest *published* township assessment, ranked;
- ``enforcement``: final penalty decisions (their credit records once final: what
  地下水管理条例 第五十三条 makes public), without the party of a natural person;
- ``credit``: final credit records per water user (a firm's name is public; a person's not);
- supervision's ``complaints_on_time`` indicator: complaints answered by their deadline;
- openers: a complaint opens a supervision inspection of its township, or an enforcement
  case of the kind its category suggests (chosen by the handler on the case afterwards).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aquifer.closure.reports import closures_by_township
from aquifer.core.policies import allowed
from aquifer.core.scoping import can
from aquifer.enforcement import services as enforcement
from aquifer.enforcement.models import Case, CaseKind, CaseSource, CreditRecord
from aquifer.portal.models import Complaint, ComplaintCategory, ComplaintState
from aquifer.portal.panels import CaseOpener, Panel, register_opener, register_panel
from aquifer.registry.models import Township
from aquifer.supervision import hooks as supervision_hooks
from aquifer.supervision import services as supervision
from aquifer.supervision.models import Assessment, Inspection

__all__ = ["CATEGORY_CASE_KIND", "register"]

#: The case a complaint's category suggests (the handler may change it on the case).
CATEGORY_CASE_KIND = {
    ComplaintCategory.ILLEGAL_WELL: CaseKind.UNAPPROVED_WORKS,
    ComplaintCategory.POLLUTION: CaseKind.POLLUTION_DISCHARGE,
    ComplaintCategory.UNMETERED: CaseKind.NO_METER,
    ComplaintCategory.DEVICE: CaseKind.MONITORING_DAMAGE,
}


def _names() -> dict[int, str]:
    return dict(Township.objects.values_list("id", "name"))


def closure_rows() -> list[list[Any]]:
    names = _names()
    figures = closures_by_township(timezone.localdate().year)
    return [
        [names.get(tid, "—"), f["planned"], f["closed"], f["verified"]]
        for tid, f in sorted(figures.items(), key=lambda kv: names.get(kv[0], ""))
    ]


def assessment_rows() -> list[list[Any]]:
    latest = Assessment.objects.filter(published_at__isnull=False).order_by("-year").first()
    if latest is None:
        return []
    return [
        [latest.year, s.rank, s.township.name, round(s.total, 1)]
        for s in latest.scores.select_related("township").order_by("rank", "township__code")
    ]


def _final_credit() -> Any:
    today = timezone.localdate()
    return (
        CreditRecord.objects.filter(final_on__lte=today)
        .select_related("water_user", "case__township")
        .order_by("-decided_on", "-pk")
    )


def _party(record: CreditRecord) -> str:
    user = record.water_user
    # A firm's or an institution's name (it has a unified social credit code) is published
    # (条例 第五十三条); a person's or a household's is not.
    return str(user) if user.uscc else gettext("个人（不公开姓名）")


def enforcement_rows() -> list[list[Any]]:
    return [
        [
            r.decided_on.isoformat(),
            r.case.number,
            str(CaseKind(r.kind).label),
            r.case.township.name if r.case.township_id else "—",
            r.amount,
        ]
        for r in _final_credit()[:200]
    ]


def credit_rows() -> list[list[Any]]:
    return [
        [_party(r), str(CaseKind(r.kind).label), r.basis, r.decided_on.isoformat()]
        for r in _final_credit()[:200]
    ]


def complaints_on_time(year: int) -> dict[int, tuple[int, int, list[int]]]:
    """The answer to supervision's hook: per township, the complaints filed in ``year`` whose
    reply was due (answered, or past the deadline) and how many were answered by it.
    Rejected complaints and those routed to the bureau (no township) are not counted."""
    now = timezone.now()
    out: dict[int, tuple[int, int, list[int]]] = {}
    rows = (
        Complaint.objects.filter(filed_at__year=year, township__isnull=False)
        .exclude(state=ComplaintState.REJECTED)
        .values_list("pk", "township_id", "due_at", "replied_at")
        .order_by("pk")
    )
    for pk, township_id, due_at, replied_at in rows:
        if replied_at is None and due_at > now:
            continue  # not yet due
        on_time, due, ids = out.get(township_id, (0, 0, []))
        on_time += int(replied_at is not None and replied_at <= due_at)
        out[township_id] = (on_time, due + 1, [*ids, pk])
    return out


def open_enforcement_case(complaint: Complaint, user: Any) -> tuple[Any, str, str]:
    kind = CATEGORY_CASE_KIND.get(ComplaintCategory(complaint.category))
    if kind is None:
        raise ValidationError({"kind": _("该类举报不对应案由，请直接登记执法案件。")})
    case = enforcement.open_case(
        kind,
        CaseSource.COMPLAINT,
        by=user,
        title=gettext("群众举报 %(number)s") % {"number": complaint.number},
        facts=complaint.description,
        township=complaint.township,
        source_ref=f"complaint:{complaint.pk}",
        evidence=[
            (
                "document",
                gettext("举报内容"),
                {
                    "number": complaint.number,
                    "category": complaint.category,
                    "description": complaint.description,
                    "lon": complaint.lon,
                    "lat": complaint.lat,
                    "filed_at": complaint.filed_at.isoformat(),
                },
            )
        ],
    )
    return case.pk, case.number, case.get_absolute_url()


def open_inspection(complaint: Complaint, user: Any) -> tuple[Any, str, str]:
    inspection = supervision.record_inspection(
        by=user,
        township=complaint.township,
        date=timezone.localdate(),
        place=complaint.place[:200],
        lon=complaint.lon,
        lat=complaint.lat,
        subject=(gettext("群众举报核查 %(number)s") % {"number": complaint.number})[:200],
        summary=complaint.description,
    )
    label = gettext("督查检查 #%(id)s") % {"id": inspection.pk}
    return inspection.pk, label, inspection.get_absolute_url()


def register() -> None:
    supervision_hooks.complaints_on_time.register(complaints_on_time)
    register_panel(
        Panel(
            "closure",
            _("地下水取水井关停进度"),
            _("本年度各乡镇纳入关停计划、已关停和已核验的取水井数。"),
            [_("乡镇"), _("计划关停"), _("已关停"), _("已核验")],
            closure_rows,
        )
    )
    register_panel(
        Panel(
            "assessment",
            _("考核结果公示"),
            _("县水务局公布的最近一次乡镇地下水管理考核结果。"),
            [_("年度"), _("排名"), _("乡镇"), _("总分")],
            assessment_rows,
        )
    )
    register_panel(
        Panel(
            "enforcement",
            _("行政处罚决定公示"),
            _("已生效的地下水行政处罚决定。"),
            [_("决定日期"), _("案件编号"), _("违法行为"), _("乡镇"), _("罚款 (元)")],
            enforcement_rows,
        )
    )
    register_panel(
        Panel(
            "credit",
            _("信用记录"),
            _("取用水户因违法行为受到的已生效处罚（地下水管理条例第五十三条）。"),
            [_("当事人"), _("违法行为"), _("处罚依据"), _("决定日期")],
            credit_rows,
        )
    )
    register_opener(
        CaseOpener(
            "enforcement",
            _("登记执法案件"),
            open_enforcement_case,
            lambda user: can(user, "open", Case),
        )
    )
    register_opener(
        CaseOpener(
            "inspection",
            _("安排督查检查"),
            open_inspection,
            lambda user: can(user, "add", Inspection) and allowed(user, "supervision.use"),
        )
    )
