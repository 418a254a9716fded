"""The alarm board's figures and its bulk actions (docs/monitoring.md, "The alarm board").

- :func:`summary`: the user's open alarms counted by kind, by severity and by township, in
  one aggregate query (the number of rows is bounded by kinds × severities × townships, not
  by the number of alarms);
- :func:`groups`: the filtered alarms as one group per kind (one condition on many devices or
  wells), with its count, overdue count, highest severity and earliest due time, and its first
  :data:`GROUP_PREVIEW` members by due time — three queries whatever the number of alarms;
- :func:`apply`: acknowledge or resolve many alarms with one reason, all or nothing.

**Bulk semantics (all or nothing).** The request is checked first: an unknown action, an empty
reason, no selection, more than :data:`MAX_BATCH` alarms or ids the user cannot see are field
errors (:class:`BulkInvalid`, the API's 422). Then every selected alarm is locked and checked
with the policy (``change``) and its state (acknowledge: open; resolve: open or acknowledged);
if any is refused, nothing is changed and every refused alarm is reported with its reason
(:class:`BulkRefused`). Otherwise each alarm goes through the lifecycle service
(:func:`aquifer.monitoring.alarms.acknowledge` / :func:`~aquifer.monitoring.alarms.resolve`),
which writes its AlarmEvent and its audit entry, inside one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.expressions import Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from aquifer.core.roles import Action
from aquifer.core.scoping import can, visible_to
from aquifer.monitoring import alarms as alarm_service
from aquifer.monitoring.models import (
    SEVERITY_RANK,
    Alarm,
    AlarmKind,
    AlarmSeverity,
    AlarmState,
)
from aquifer.registry.models import Township

__all__ = [
    "ACTIONS",
    "GROUP_PREVIEW",
    "MAX_BATCH",
    "SEVERITY_ICONS",
    "BulkInvalid",
    "BulkRefused",
    "Group",
    "Refusal",
    "Summary",
    "Tally",
    "apply",
    "by_due",
    "check",
    "groups",
    "selected",
    "summary",
]

#: The bulk actions and the states each applies to.
ACTIONS: dict[str, tuple[str, ...]] = {
    "acknowledge": (AlarmState.OPEN,),
    "resolve": (AlarmState.OPEN, AlarmState.ACKNOWLEDGED),
}
#: At most this many alarms in one bulk action (each is one audited transition).
MAX_BATCH = 1000
#: The members of a group shown on the board (the rest: the flat list of that kind).
GROUP_PREVIEW = 5
#: Severity shown by a shape as well as a colour (and always by its name).
SEVERITY_ICONS = {"critical": "▲", "warning": "◆", "info": "●"}

_RANK = Case(
    *(When(severity=s, then=Value(r)) for s, r in SEVERITY_RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)
_SEVERITY_OF_RANK = {r: s for s, r in SEVERITY_RANK.items()}


def by_due(qs: QuerySet[Alarm]) -> QuerySet[Alarm]:
    """The board's default order: the soonest due first (no due time last), then by id."""
    return qs.order_by(F("due_at").asc(nulls_last=True), "id")


# --- summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    key: Any  # the kind, severity or township id (None: no township)
    label: str
    n: int
    icon: str = ""  # severities: SEVERITY_ICONS


@dataclass
class Summary:
    total: int = 0
    overdue: int = 0
    by_kind: list[Tally] = field(default_factory=list)
    by_severity: list[Tally] = field(default_factory=list)
    by_township: list[Tally] = field(default_factory=list)


def summary(user: Any, now: dt.datetime) -> Summary:
    """The open (not closed) alarms ``user`` can see, counted by kind, severity and township:
    one aggregate query and one for the townships' names. Kinds and townships most alarms
    first; severities most severe first."""
    rows = (
        visible_to(user, Action.VIEW, Alarm)
        .filter(closed_at__isnull=True)
        .order_by()
        .values("kind", "severity", "township_id")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
    )  # read off the index alarm_board_summary; township names after (no join per alarm)
    kinds: dict[str, int] = {}
    severities: dict[str, int] = {}
    towns: dict[Any, int] = {}
    out = Summary()
    for r in rows:
        n = r["n"]
        out.total += n
        out.overdue += r["late"]
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + n
        severities[r["severity"]] = severities.get(r["severity"], 0) + n
        towns[r["township_id"]] = towns.get(r["township_id"], 0) + n
    kind_labels = {k: str(v) for k, v in AlarmKind.choices}
    out.by_kind = sorted(
        (Tally(k, kind_labels.get(k, k), n) for k, n in kinds.items()), key=lambda c: -c.n
    )
    out.by_severity = [
        Tally(s, str(label), severities[s], SEVERITY_ICONS[s])
        for s, label in reversed(AlarmSeverity.choices)
        if s in severities
    ]
    names = dict(Township.objects.filter(pk__in=[t for t in towns if t]).values_list("pk", "name"))
    out.by_township = sorted(
        (Tally(t, names.get(t, "—"), n) for t, n in towns.items()), key=lambda c: (-c.n, c.label)
    )
    return out


# --- groups ----------------------------------------------------------------------------------


@dataclass
class Group:
    """The filtered alarms of one kind."""

    kind: str
    label: str
    count: int
    overdue: int
    severity: str  # the highest among them
    first_due: dt.datetime | None
    members: list[Alarm] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.members)

    @property
    def severity_label(self) -> str:
        return str(AlarmSeverity(self.severity).label)

    @property
    def severity_icon(self) -> str:
        return SEVERITY_ICONS[self.severity]


def groups(qs: QuerySet[Alarm], now: dt.datetime, preview: int = GROUP_PREVIEW) -> list[Group]:
    """``qs`` (the board's filtered alarms) as one group per kind, the most urgent group first
    (earliest due), each with its first ``preview`` members by due time. Three queries."""
    heads = (
        qs.order_by()
        .values("kind")
        .annotate(
            n=Count("id"),
            late=Count("id", filter=Q(due_at__lt=now, closed_at__isnull=True)),
            rank=Max(_RANK),
            first_due=Min("due_at"),
        )
    )
    labels = {k: str(v) for k, v in AlarmKind.choices}
    out = {
        h["kind"]: Group(
            kind=h["kind"],
            label=labels.get(h["kind"], h["kind"]),
            count=h["n"],
            overdue=h["late"],
            severity=_SEVERITY_OF_RANK.get(h["rank"], AlarmSeverity.INFO),
            first_due=h["first_due"],
        )
        for h in heads
    }
    if not out:
        return []
    # the window over narrow rows (id, kind, due_at), then the few members in full
    top = (
        qs.order_by()
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("kind")],
                order_by=[F("due_at").asc(nulls_last=True), F("id").asc()],
            )
        )
        .filter(rn__lte=preview)
        .values_list("pk", flat=True)
    )
    for a in by_due(qs.filter(pk__in=list(top))):
        out[a.kind].members.append(a)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(out.values(), key=lambda g: (g.first_due or far, -SEVERITY_RANK[g.severity]))


# --- bulk actions ----------------------------------------------------------------------------


class BulkInvalid(ValueError):
    """The request itself is wrong: ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Refusal:
    id: int
    code: str  # "forbidden" (the policy) or "state" (the alarm's state)
    message: str


class BulkRefused(PermissionError):
    """Some selected alarms may not take the action: nothing was changed."""

    def __init__(self, refusals: list[Refusal]) -> None:
        super().__init__(refusals)
        self.refusals = refusals

    @property
    def forbidden(self) -> bool:
        return any(r.code == "forbidden" for r in self.refusals)


def check(action: str, reason: str, ids: Iterable[int]) -> list[int]:
    """The request's field errors (:class:`BulkInvalid`), else the ids, unique and sorted."""
    errors: dict[str, list[str]] = {}
    if action not in ACTIONS:
        errors["action"] = [_("操作应为“确认”或“解除”。")]
    if not reason.strip():
        errors["reason"] = [_("请填写处理原因。")]
    unique = sorted(set(ids))
    if not unique:
        errors["ids"] = [_("请至少选择一条告警。")]
    elif len(unique) > MAX_BATCH:
        errors["ids"] = [_("一次最多处理 %(n)d 条告警。") % {"n": MAX_BATCH}]
    if errors:
        raise BulkInvalid(errors)
    return unique


def apply(user: Any, action: str, reason: str, ids: Iterable[int]) -> list[Alarm]:
    """Take ``action`` on every alarm of ``ids`` with ``reason``, all or nothing (module doc).

    Raises :class:`BulkInvalid` (bad request, ids out of sight) or :class:`BulkRefused` (some
    alarms refused by the policy or their state; nothing changed)."""
    wanted = check(action, reason, ids)
    reason = reason.strip()
    with transaction.atomic():
        found = list(
            visible_to(user, Action.VIEW, Alarm)
            .filter(pk__in=wanted)
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        missing = sorted(set(wanted) - {a.pk for a in found})
        if missing:
            raise BulkInvalid(
                {"ids": [_("没有这些告警：%(ids)s") % {"ids": ", ".join(map(str, missing))}]}
            )
        states = ACTIONS[action]
        refusals = []
        for a in found:
            if not can(user, Action.CHANGE, a):
                refusals.append(Refusal(a.pk, "forbidden", _("无权处理此告警。")))
            elif a.state not in states:
                refusals.append(Refusal(a.pk, "state", _("该告警当前状态不允许此操作。")))
        if refusals:
            raise BulkRefused(refusals)
        step = alarm_service.acknowledge if action == "acknowledge" else alarm_service.resolve
        for a in found:
            step(a, user, reason)
    return found


def selected(action: str, explicit: Iterable[int], pool: QuerySet[Alarm] | None) -> list[int]:
    """The ids a board form selects: the ticked rows plus ``pool`` (the alarms of a ticked
    group or of the whole filter), of which only those the action applies to (acknowledge:
    the open ones) — a ticked row is taken as it is and refused if its state does not fit."""
    ids = set(explicit)
    if pool is not None and action in ACTIONS:
        # one more than allowed at most: check() names the excess
        ids.update(
            pool.filter(state__in=ACTIONS[action])
            .order_by()
            .values_list("pk", flat=True)[: MAX_BATCH + 1]
        )
    return sorted(ids)
