"""Cases and their procedure — the one write path for pages, API, jobs and the apps above.

:func:`open_case` is the service signature the other sources use (the supervision app's
inspection findings, later the public complaints): a kind of :class:`CaseKind`, a source of
:class:`CaseSource`, what it concerns, and evidence to attach at once. :func:`open_from_alarm`
opens a case from an alarm in one action with the alarm's evidence (its snapshot, raw frames of
an unregistered station, a registered device's archived raw frames and its readings around
it); :func:`attach_archived_frames` lets an officer attach more of the device's frames.
:func:`take_step` moves a case through the procedure (``enforcement.workflow``), each step a
:class:`CaseStep` with who and when and the deadline it sets; deadlines are settings
(``enforcement.conf``), warned by the ``enforcement.deadlines`` job.

Who: ``open`` a case — bureau, inspectors (county-wide), township officers in their township;
``work`` it (investigate, evidence, notice, statement, execute, close) — bureau and
inspectors; ``approve`` (filing, decision, dismissal) — the bureau.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from hashlib import sha256
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.scoping import can
from aquifer.enforcement import articles, conf, workflow
from aquifer.enforcement import evidence as chain
from aquifer.enforcement.models import (
    Band,
    Case,
    CaseKind,
    CaseSource,
    CaseState,
    CaseStep,
    CreditRecord,
    Evidence,
    EvidenceKind,
    ExecutionKind,
    StepKind,
)
from aquifer.monitoring.models import Alarm
from aquifer.notifications.service import notify
from aquifer.telemetry import archive
from aquifer.telemetry.mapping import map_values
from aquifer.telemetry.models import QuarantinedFrame, Reading
from aquifer.telemetry.protocols import FrameError, sl651, szy206

__all__ = [
    "APPROVE_STEPS",
    "attach",
    "attach_archived_frames",
    "attach_file",
    "case_kind_for_alarm",
    "open_case",
    "open_from_alarm",
    "permitted_steps",
    "take_step",
]

#: Steps only the bureau takes (approvals).
APPROVE_STEPS = frozenset({"file", "decide", "dismiss"})
#: How many readings around an alarm are attached, at most.
MAX_READINGS = 500
#: How many raw frames an alarm brings to a case, at most: an unregistered station's first
#: quarantined ones, or a registered device's archived ones observed nearest the alarm.
MAX_FRAMES = 50

EvidenceItem = tuple[str, str, dict[str, Any]]


def _who(by: Any) -> tuple[Any, str]:
    ok = getattr(by, "is_authenticated", False)
    return (by if ok else None), (by.get_username() if ok else "")


def _days(key: str, start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(days=int(conf.get(key)))


def _step(
    case: Case,
    step: str,
    by: Any,
    note: str = "",
    data: dict[str, Any] | None = None,
    due_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> CaseStep:
    user, name = _who(by)
    return CaseStep.objects.create(
        case=case,
        step=step,
        at=at or timezone.now(),
        user=user,
        username=name,
        note=note,
        data=data or {},
        due_at=due_at,
    )


def case_kind_for_alarm(alarm: Alarm) -> str | None:
    """The case kind an alarm of this kind opens (setting ``ALARM_CASE_KINDS``)."""
    kind = conf.get("ALARM_CASE_KINDS").get(alarm.kind)
    return kind if kind in CaseKind.values else None


def open_case(
    kind: str,
    source: str,
    *,
    by: Any,
    title: str = "",
    facts: str = "",
    well: Any = None,
    device: Any = None,
    alarm: Any = None,
    patrol: Any = None,
    owner: Any = None,
    township: Any = None,
    party: str = "",
    source_ref: str = "",
    evidence: Iterable[EvidenceItem] = (),
    at: dt.datetime | None = None,
    system: bool = False,
) -> Case:
    """Open a case (validated, scoped, audited) with its first evidence; returns it.

    ``system=True``: opened by Aquifer itself on a rule (a closed well still drawing water),
    with no person to answer for it; ``by`` is then None and no role is asked.

    ``evidence``: (kind of :class:`EvidenceKind`, label, content) triples, attached in order.
    """
    if kind not in CaseKind.values:
        raise ValidationError({"kind": _("未知的案由：%s") % kind})
    if source not in CaseSource.values:
        raise ValidationError({"source": _("未知的案件来源：%s") % source})
    at = at or timezone.now()
    case = Case(
        kind=kind,
        source=source,
        source_ref=source_ref[:64],
        title=(title or str(CaseKind(kind).label))[:200],
        facts=facts,
        party=party or (str(owner) if owner is not None else ""),
        well=well,
        device=device,
        alarm=alarm,
        patrol=patrol,
        owner=owner,
        township=township,
        opened_at=at,
        opened_by=_who(by)[0],
    )
    case.derive_place()
    if not case.party and case.owner_id:
        case.party = str(case.owner)
    if not system and not can(by, "open", case):
        raise PermissionDenied(_("无权登记该案件。"))
    case.full_clean()
    items = list(evidence)
    for k, _label, _content in items:
        if k not in EvidenceKind.values:
            raise ValidationError({"evidence": _("未知的证据类型：%s") % k})
    with transaction.atomic():
        case.due_at, case.due_step = _days("FILING_DAYS", at), StepKind.FILE
        case.save()
        _step(
            case,
            StepKind.OPEN,
            by,
            facts,
            {"source": source, "ref": source_ref},
            due_at=case.due_at,
            at=at,
        )
        for k, label, content in items:
            chain.append(case, k, label, content, by=by)
    return case


def _alarm_snapshot(alarm: Alarm) -> dict[str, Any]:
    return {
        "alarm": alarm.pk,
        "kind": alarm.kind,
        "key": alarm.key,
        "severity": alarm.severity,
        "state": alarm.state,
        "title": alarm.title,
        "detail": alarm.detail,
        "message": alarm.message,
        "params": alarm.params,
        "data": alarm.data,
        "device": alarm.device_id,
        "well": alarm.well_id,
        "opened_at": alarm.opened_at.isoformat(),
        "last_seen": alarm.last_seen.isoformat(),
        "count": alarm.count,
    }


def alarm_evidence(alarm: Alarm) -> list[EvidenceItem]:
    """What an alarm brings to a case: its snapshot; the raw frames (hex as received) of an
    unregistered station; the device's readings from a day before it to its last sighting."""
    items: list[EvidenceItem] = [
        (
            EvidenceKind.ALARM,
            _("告警 #%(id)s %(title)s") % {"id": alarm.pk, "title": alarm.title},
            _alarm_snapshot(alarm),
        )
    ]
    station = (alarm.data or {}).get("station")
    if alarm.kind == "unregistered_station" and station:
        frames = QuarantinedFrame.objects.filter(station=station).order_by("received_at", "id")
        for f in frames[:MAX_FRAMES]:
            items.append(
                (
                    EvidenceKind.FRAME,
                    _("原始报文 %(station)s %(at)s")
                    % {"station": station, "at": f"{f.received_at:%Y-%m-%d %H:%M:%S}"},
                    {
                        "frame": f.pk,
                        "received_at": f.received_at.isoformat(),
                        "protocol": f.protocol,
                        "remote_addr": f.remote_addr,
                        "station": f.station,
                        "raw_hex": f.raw_hex,
                        "reason": f.reason,
                    },
                )
            )
    if alarm.device_id:
        start = alarm.opened_at - dt.timedelta(days=1)
        items.extend(
            archived_frame_evidence(alarm.device_id, start, alarm.last_seen, around=alarm.opened_at)
        )
        rows = list(
            Reading.objects.filter(
                device_id=alarm.device_id, observed_at__gte=start, observed_at__lte=alarm.last_seen
            )
            .order_by("observed_at", "element")
            .values_list("element", "observed_at", "value", "flags", "received_at")[:MAX_READINGS]
        )
        if rows:
            items.append(
                (
                    EvidenceKind.READINGS,
                    _("监测数据 %(n)s 条") % {"n": len(rows)},
                    {
                        "device": alarm.device_id,
                        "readings": [
                            {
                                "element": e,
                                "observed_at": o.isoformat(),
                                "value": v,
                                "flags": fl,
                                "received_at": r.isoformat(),
                            }
                            for e, o, v, fl, r in rows
                        ],
                    },
                )
            )
    return items


def _summary(protocol: str, raw: bytes, received_at: dt.datetime) -> str:
    """What a frame says, in a line (element=value at its time), decoded again from the
    bytes; "" when it does not decode."""
    try:
        frame = sl651.decode(raw) if protocol == "SL651" else szy206.decode(raw)
        values, _skipped, _status = map_values(frame, received_at=received_at)
    except (FrameError, ValueError):
        return ""
    return "; ".join(
        f"{key}={value:g} @ {timezone.localtime(at):%Y-%m-%d %H:%M}" for key, at, value in values
    )[:500]


def frame_content(f: archive.ArchivedFrame) -> dict[str, Any]:
    """An archived raw frame as evidence: the hex as received, its SHA-256, when and whence
    it came, and what it says (a copy: pruning the archive leaves the evidence whole)."""
    raw = bytes.fromhex(f.raw_hex)
    return {
        "archive": "raw_frame",
        "frame": f.id,
        "device": f.device_id,
        "protocol": f.protocol,
        "received_at": f.received_at.isoformat(),
        "observed_at": f.observed_at.isoformat() if f.observed_at else None,
        "remote_addr": f.remote_addr,
        "raw_hex": f.raw_hex,
        "sha256": sha256(raw).hexdigest(),
        "summary": _summary(f.protocol, raw, f.received_at),
    }


def archived_frame_evidence(
    device_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    around: dt.datetime | None = None,
    skip: frozenset[int] = frozenset(),
) -> list[EvidenceItem]:
    """Evidence items (kind ``frame``) for a registered device's archived frames that
    reported observations from ``start`` to ``end``: at most :data:`MAX_FRAMES`, those
    observed nearest ``around`` (default ``end``), oldest first; archive ids in ``skip``
    (attached already) left out."""
    found = [
        f for f in archive.frames_of(device_id, start, end, limit=MAX_READINGS) if f.id not in skip
    ]
    pivot = around or end
    nearest = sorted(found, key=lambda f: abs((f.observed_at or f.received_at) - pivot))
    chosen = sorted(nearest[:MAX_FRAMES], key=lambda f: (f.observed_at or f.received_at, f.id))
    return [
        (
            EvidenceKind.FRAME,
            _("原始报文 %(protocol)s %(at)s")
            % {
                "protocol": f.protocol,
                "at": f"{timezone.localtime(f.received_at):%Y-%m-%d %H:%M:%S}",
            },
            frame_content(f),
        )
        for f in chosen
    ]


def attach_archived_frames(
    case: Case,
    *,
    by: Any,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[Evidence]:
    """Attach the case device's archived raw frames observed from ``start`` to ``end``
    (default: the alarm's window — a day before it to its last sighting —, else the last
    day), those not attached yet; the pieces attached (none: a 422 naming the window)."""
    if not can(by, "work", case):
        raise PermissionDenied(_("无权办理该案件。"))
    if not case.is_open:
        raise ValidationError({"case": _("案件已结案，不能再附加证据。")})
    if case.device_id is None:
        raise ValidationError({"device": _("该案件未关联监测设备，没有可附加的原始报文。")})
    alarm = case.alarm
    if end is None:
        end = alarm.last_seen if alarm is not None else timezone.now()
    if start is None:
        start = (alarm.opened_at if alarm is not None else end) - dt.timedelta(days=1)
    if start > end:
        raise ValidationError({"start": _("开始时间须早于结束时间。")})
    attached = frozenset(
        int(c["frame"])
        for c in case.evidence.filter(kind=EvidenceKind.FRAME).values_list("content", flat=True)
        if isinstance(c, dict) and c.get("archive") == "raw_frame" and "frame" in c
    )
    items = archived_frame_evidence(
        case.device_id,
        start,
        end,
        around=alarm.opened_at if alarm is not None else end,
        skip=attached,
    )
    if not items:
        raise ValidationError(
            {
                "start": _("%(start)s 至 %(end)s 之间没有尚未附加的原始报文。")
                % {
                    "start": f"{timezone.localtime(start):%Y-%m-%d %H:%M}",
                    "end": f"{timezone.localtime(end):%Y-%m-%d %H:%M}",
                }
            }
        )
    with transaction.atomic():
        return [chain.append(case, k, label, content, by=by) for k, label, content in items]


def open_from_alarm(
    alarm: Alarm, *, by: Any, kind: str | None = None, facts: str = "", system: bool = False
) -> Case:
    """Open a case from ``alarm`` in one action, its evidence attached."""
    kind = kind or case_kind_for_alarm(alarm)
    if kind is None:
        raise ValidationError({"kind": _("该类告警不对应案由，请选择案由。")})
    existing = Case.objects.filter(alarm=alarm).exclude(state=CaseState.DISMISSED).first()
    if existing is not None:
        raise ValidationError({"alarm": _("该告警已立案：%s") % existing.number})
    party = ""
    if alarm.kind == "unregistered_station":
        party = _("未登记测站 %s 的使用人（待查）") % (alarm.data or {}).get("station", "")
    return open_case(
        kind,
        CaseSource.ALARM,
        by=by,
        title=alarm.title[:200],
        facts=facts or alarm.detail,
        well=alarm.well,
        device=alarm.device,
        alarm=alarm,
        owner=alarm.owner,
        township=alarm.township,
        party=party,
        source_ref=f"alarm:{alarm.pk}",
        evidence=alarm_evidence(alarm),
        system=system,
    )


def case_for_closed_well(entry: Any, alarm: Alarm) -> Case | None:
    """The answer to closure's hook: a closed well still drawing water is a case, opened by
    Aquifer on the alarm the first time the check finds it (once per alarm, whatever became
    of that case: a dismissed case is not reopened by the next run)."""
    if Case.objects.filter(alarm=alarm).exists():
        return None
    return open_from_alarm(alarm, by=None, kind=CaseKind.CLOSED_WELL_PUMPING, system=True)


def open_from_patrol(patrol: Any, *, by: Any, kind: str, facts: str = "") -> Case:
    """Open a case from a patrol's finding, the patrol's checklist attached (one open case
    per patrol: a second is refused naming the first)."""
    existing = Case.objects.filter(patrol=patrol).exclude(state=CaseState.DISMISSED).first()
    if existing is not None:
        raise ValidationError({"patrol": _("该巡查已立案：%s") % existing.number})
    snapshot = {
        "patrol": patrol.pk,
        "visited_at": patrol.visited_at.isoformat(),
        "device": patrol.device_id,
        "checks": patrol.checks,
        "meter_reading": patrol.meter_reading,
        "findings": patrol.findings,
    }
    device = patrol.device
    return open_case(
        kind,
        CaseSource.PATROL,
        by=by,
        facts=facts or patrol.findings,
        device=device,
        well=device.well if device is not None else None,
        patrol=patrol,
        source_ref=f"patrol:{patrol.pk}",
        evidence=[(EvidenceKind.FINDING, _("巡查记录 %s") % patrol, snapshot)],
    )


def attach(case: Case, kind: str, label: str, content: dict[str, Any], *, by: Any) -> Evidence:
    """Attach evidence by hand (a frame's hex, a statement, an on-site record)."""
    if not can(by, "work", case):
        raise PermissionDenied(_("无权办理该案件。"))
    if not case.is_open:
        raise ValidationError({"case": _("案件已结案，不能再附加证据。")})
    if kind not in EvidenceKind.values:
        raise ValidationError({"kind": _("未知的证据类型：%s") % kind})
    if not (label or "").strip():
        raise ValidationError({"label": _("请填写证据名称。")})
    if kind == EvidenceKind.FRAME:
        raw = str(content.get("raw_hex", "")).replace(" ", "")
        try:
            bytes.fromhex(raw)
        except ValueError:
            raise ValidationError({"raw_hex": _("原始报文须为十六进制。")}) from None
        if not raw:
            raise ValidationError({"raw_hex": _("原始报文须为十六进制。")})
        content = {**content, "raw_hex": raw.upper()}
    return chain.append(case, kind, label, content, by=by)


def attach_file(case: Case, attachment: Any, *, by: Any, label: str = "") -> Evidence:
    """Attach a stored file (``core.attachments``): its name, size, type and SHA-256."""
    content = {
        "attachment": attachment.pk,
        "name": getattr(attachment, "name", ""),
        "size": getattr(attachment, "size", None),
        "mime": getattr(attachment, "mime", ""),
        "sha256": attachment.sha256,
    }
    if not can(by, "work", case):
        raise PermissionDenied(_("无权办理该案件。"))
    return chain.append(
        case,
        EvidenceKind.FILE,
        label or content["name"] or _("文件"),
        content,
        by=by,
        attachment_id=attachment.pk,
    )


def permitted_steps(user: Any, case: Case) -> list[str]:
    out = []
    for step in workflow.allowed_steps(case.state):
        action = "approve" if step in APPROVE_STEPS else "work"
        if can(user, action, case):
            out.append(step)
    return out


def _int(data: dict[str, Any], key: str) -> int:
    try:
        value = int(data.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError({key: _("请填写整数。")}) from None
    return value


def take_step(case: Case, step: str, *, by: Any, note: str = "", **data: Any) -> Case:
    """Take one step of the procedure: validated, scoped, recorded with who and when.

    ``notice``: ``band`` (light/ordinary/serious) → the proposal from the article's range;
    ``statement``: ``hearing`` (bool); ``decide``: ``amount`` within the range and a ``reason``;
    ``execute``: ``execution`` (paid, sealed, restored, remedied).
    """
    if step not in workflow.NEXT:
        raise ValidationError({"step": _("未知的办案环节：%s") % step})
    if step not in permitted_steps(by, case):
        if not can(by, "view", case):
            raise PermissionDenied(_("无权办理该案件。"))
        if step not in workflow.allowed_steps(case.state):
            raise ValidationError({"step": _("案件当前状态不能进行该环节。")})
        raise PermissionDenied(_("无权进行该环节。"))
    now = timezone.now()
    article = articles.ARTICLES[case.kind]
    record: dict[str, Any] = {}
    due: dt.datetime | None = None
    due_step = ""
    if step == "file":
        case.filed_at = now
        due, due_step = _days("DECISION_DAYS", now), StepKind.DECIDE
    elif step == "investigate":
        if not case.evidence.exists():
            raise ValidationError({"step": _("调查终结前须至少附加一项证据。")})
        due, due_step = case.due_at, case.due_step
    elif step == "notice":
        band = str(data.get("band") or "")
        if band not in Band.values:
            raise ValidationError({"band": _("请选择裁量档次。")})
        case.band = band
        case.proposed_amount = articles.propose(case.kind, band, conf.get("BANDS"))
        record = {
            "band": band,
            "proposed_amount": case.proposed_amount,
            "basis": article.basis,
            "range": [article.minimum, article.maximum],
            "statement_due": _days("STATEMENT_DAYS", now).isoformat(),
        }
        due, due_step = _days("STATEMENT_DAYS", now), StepKind.STATEMENT
    elif step == "statement":
        case.hearing_requested = bool(data.get("hearing"))
        record = {"hearing": case.hearing_requested}
        due, due_step = case.due_at, case.due_step
    elif step == "decide":
        amount = _int(data, "amount")
        try:
            articles.check_amount(case.kind, amount)
        except articles.PenaltyError:
            raise ValidationError(
                {
                    "amount": _("罚款须在 %(min)s–%(max)s 元之间（%(basis)s）。")
                    % {"min": article.minimum, "max": article.maximum, "basis": article.basis}
                }
            ) from None
        reason = str(data.get("reason") or "").strip()
        if not reason:
            raise ValidationError({"reason": _("请填写裁量理由。")})
        case.decided_amount, case.decision_reason, case.decided_at = amount, reason, now
        record = {"amount": amount, "reason": reason, "basis": article.basis}
        due, due_step = _days("PAYMENT_DAYS", now), StepKind.EXECUTE
    elif step == "execute":
        execution = str(data.get("execution") or "")
        if execution not in ExecutionKind.values:
            raise ValidationError({"execution": _("请选择执行情况。")})
        record = {"execution": execution}
    elif step == "close":
        case.closed_at = now
    elif step == "dismiss":
        if not note.strip():
            raise ValidationError({"note": _("不予处罚须说明理由。")})
        case.closed_at = now
    with transaction.atomic():
        case.state = workflow.next_state(case.state, step)
        case.due_at, case.due_step, case.warned_at = due, due_step, None
        case.save()
        _step(case, step, by, note, record, due_at=due, at=now)
        if step == "decide" and case.owner_id:
            _credit(case)
        if step == "execute" and hasattr(case, "credit"):
            credit = case.credit
            credit.final_on = min(credit.final_on, now.date())
            credit.save(update_fields=["final_on"])
    if step == "decide":
        _notify_decision(case)
    return case


def _credit(case: Case) -> CreditRecord:
    assert case.owner is not None and case.decided_at is not None
    decided_on = timezone.localdate(case.decided_at)
    return CreditRecord.objects.create(
        water_user=case.owner,
        case=case,
        kind=case.kind,
        basis=articles.ARTICLES[case.kind].basis,
        amount=case.decided_amount or 0,
        decided_on=decided_on,
        final_on=decided_on + dt.timedelta(days=int(conf.get("REVIEW_DAYS"))),
    )


def _notify_decision(case: Case) -> None:
    notify(
        event="case.decided",
        title=_("%(case)s 已作出行政处罚决定") % {"case": case.number},
        body=case.title,
        township=case.township,
        url=case.get_absolute_url(),
        severity="warning",
        users=[*_handlers(case), *get_user_model().objects.filter(water_user_id=case.owner_id)]
        if case.owner_id
        else _handlers(case),
    )


def _handlers(case: Case) -> list[Any]:
    """Who worked the case: whoever opened it or took a step."""
    ids = {case.opened_by_id, *case.steps.values_list("user_id", flat=True)} - {None}
    return list(get_user_model().objects.filter(pk__in=ids, is_active=True))


def warn_deadlines(now: dt.datetime | None = None) -> int:
    """Notify once per deadline: cases whose deadline passes within ``WARN_DAYS`` (or passed)."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=int(conf.get("WARN_DAYS")))
    n = 0
    due = Case.objects.filter(
        state__in=workflow.OPEN_STATES,
        due_at__isnull=False,
        due_at__lte=horizon,
        warned_at__isnull=True,
    ).select_related("township")
    for case in due:
        overdue = case.due_at is not None and case.due_at < now
        notify(
            event="case.deadline",
            title=(
                _("%(case)s %(step)s 已超过期限 (%(due)s)")
                if overdue
                else _("%(case)s %(step)s 期限将至 (%(due)s)")
            )
            % {
                "case": case.number,
                "step": StepKind(case.due_step).label if case.due_step in StepKind.values else "",
                "due": f"{timezone.localtime(case.due_at):%Y-%m-%d}",
            },
            body=case.title,
            township=case.township,
            url=case.get_absolute_url(),
            severity="critical" if overdue else "warning",
            users=_handlers(case),
        )
        Case.objects.filter(pk=case.pk).update(warned_at=now)
        n += 1
    return n
