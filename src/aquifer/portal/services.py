"""Complaints: filing, following, handling — the one write path for pages and API.

* :func:`file_complaint` — anyone (no login): checks the place is in the county, routes the
  complaint (township by location, or the bureau by category), sets the reply deadline, keeps
  the photos (core attachments, with the portal's lower size limit), counts the filing against
  the address's rate limit (a salted hash of the address only) and notifies the handler.
  Returns the complaint and its secret, which is stored only as its SHA-256.
* :func:`follow` — the complaint for a tracking number and secret, else None (one answer for
  a wrong number and a wrong secret).
* :func:`act` — accept, reply, close, reject (with a reason) or note, by who may change it
  (the bureau; a township officer in their township); audited, each a timeline event.
* :func:`link_case` — record that the complaint opened an inspection or an enforcement case
  (the filer sees its kind and label). Called by the case openers of ``portal.panels``.
* :func:`notify_overdue` — the periodic job's sweep.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.core.attachments import attach
from aquifer.core.scoping import can
from aquifer.notifications.choices import Event
from aquifer.notifications.service import notify
from aquifer.portal import conf
from aquifer.portal.models import (
    OPEN_STATES,
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintLink,
    ComplaintState,
    FilingAttempt,
)
from aquifer.registry import spatial

__all__ = [
    "RateLimited",
    "act",
    "address_hash",
    "file_complaint",
    "follow",
    "forget_addresses",
    "link_case",
    "notify_overdue",
    "permitted_actions",
    "rate_limited",
]

#: The state machine: action → (states it may start from, state it leads to).
MOVES: dict[str, tuple[tuple[str, ...], str | None]] = {
    ComplaintAction.ACCEPT: ((ComplaintState.NEW,), ComplaintState.ACCEPTED),
    ComplaintAction.REPLY: (
        (ComplaintState.NEW, ComplaintState.ACCEPTED, ComplaintState.REPLIED),
        ComplaintState.REPLIED,
    ),
    ComplaintAction.CLOSE: ((ComplaintState.REPLIED,), ComplaintState.CLOSED),
    ComplaintAction.REJECT: (
        (ComplaintState.NEW, ComplaintState.ACCEPTED),
        ComplaintState.REJECTED,
    ),
    ComplaintAction.NOTE: (tuple(ComplaintState.values), None),
}

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


class RateLimited(Exception):
    """Too many filings from one address; the page and API answer 429."""


def address_hash(address: str) -> str:
    """The address as an HMAC under the site's secret key: counted, never stored."""
    key = ("portal.address:" + settings.SECRET_KEY).encode()
    return hmac.new(key, (address or "").encode(), hashlib.sha256).hexdigest()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def rate_limited(address: str) -> bool:
    """Whether the address has used up its filings for the hour or the day."""
    h = address_hash(address)
    now = timezone.now()
    recent = FilingAttempt.objects.filter(address_hash=h, at__gte=now - timedelta(days=1))
    if recent.count() >= int(conf.get("RATE_PER_DAY")):
        return True
    return recent.filter(at__gte=now - timedelta(hours=1)).count() >= int(conf.get("RATE_PER_HOUR"))


def _new_number(now: Any) -> str:
    while True:
        tail = "".join(secrets.choice(_ALPHABET) for _ in range(6))
        number = f"JB{timezone.localtime(now):%y%m%d}{tail}"
        if not Complaint.objects.filter(number=number).exists():
            return number


def _route(category: str, lon: float, lat: float) -> int | None:
    """The township that handles a complaint at ``lon, lat`` (None: the bureau)."""
    if category in conf.get("BUREAU_CATEGORIES"):
        return None
    try:
        township, _zone = spatial.locate(lon, lat, "shallow")
    except ValueError:
        return None
    return township


@dataclass
class Filed:
    complaint: Complaint
    secret: str


def file_complaint(
    *,
    category: str,
    description: str,
    lon: float | None,
    lat: float | None,
    place: str = "",
    name: str = "",
    phone: str = "",
    photos: Sequence[IO[bytes]] = (),
    address: str = "",
    photo_field: str = "photos",
) -> Filed:
    """File a complaint (see the module docstring). Raises ValidationError naming the field,
    :class:`RateLimited` when the address has filed too often."""
    errors: dict[str, list[str]] = {}
    if category not in ComplaintCategory.values:
        errors["category"] = [_("请选择问题类别。")]
    description = (description or "").strip()
    if len(description) < 5:
        errors["description"] = [_("请描述问题（至少 5 个字）。")]
    elif len(description) > 4000:
        errors["description"] = [_("问题描述不能超过 4000 字。")]
    if lon is None or lat is None:
        errors["lon"] = [_("请在地图上选择地点。")]
    elif not (-180 <= lon <= 180 and -90 <= lat <= 90) or not spatial.in_county(lon, lat):
        errors["lon"] = [_("所选地点不在本县范围内。")]
    if len(photos) > int(conf.get("MAX_PHOTOS")):
        errors[photo_field] = [_("最多上传 %d 张照片。") % int(conf.get("MAX_PHOTOS"))]
    if errors:
        raise ValidationError(errors)
    assert lon is not None and lat is not None
    if rate_limited(address):
        raise RateLimited
    now = timezone.now()
    secret = secrets.token_urlsafe(12)
    with transaction.atomic():
        complaint = Complaint.objects.create(
            number=_new_number(now),
            secret_hash=_secret_hash(secret),
            category=category,
            description=description,
            lon=round(lon, 6),
            lat=round(lat, 6),
            place=(place or "").strip()[:200],
            township_id=_route(category, lon, lat),
            name=(name or "").strip()[:60],
            phone=(phone or "").strip()[:30],
            filed_at=now,
            due_at=now + timedelta(days=int(conf.get("REPLY_DAYS"))),
        )
        for upload in photos:
            attach(
                complaint,
                upload,
                label=str(_("举报照片")),
                field=photo_field,
                max_bytes=int(conf.get("PHOTO_MAX_BYTES")),
            )
        ComplaintEvent.objects.create(
            complaint=complaint, at=now, action=ComplaintAction.FILE, to_state=complaint.state
        )
        FilingAttempt.objects.create(address_hash=address_hash(address), at=now)
        notify(
            event=Event.COMPLAINT_FILED,
            title=_("收到公众举报 %(number)s：%(category)s")
            % {"number": complaint.number, "category": complaint.get_category_display()},
            body=description[:500],
            township=complaint.township_id,
            url=complaint.get_absolute_url(),
            severity="warning",
        )
    return Filed(complaint, secret)


def follow(number: str, secret: str) -> Complaint | None:
    """The complaint with this tracking number if the secret is its own, else None."""
    complaint = Complaint.objects.filter(number=(number or "").strip().upper()).first()
    if complaint is None or not secret:
        _secret_hash("x")  # the same work either way
        return None
    if not hmac.compare_digest(complaint.secret_hash, _secret_hash(secret.strip())):
        return None
    return complaint


def permitted_actions(user: Any, complaint: Complaint) -> list[str]:
    """The actions ``user`` may take on ``complaint`` now (state machine ∩ policy)."""
    if not can(user, "handle", complaint):
        return []
    return [a for a, (starts, _to) in MOVES.items() if complaint.state in starts]


def act(complaint: Complaint, action: str, *, by: Any, text: str = "") -> Complaint:
    """Apply ``action``; a reply and a rejection need their text (shown to the filer). The
    complaint is re-read under a row lock, so a stale copy cannot undo another's move."""
    if not can(by, "view", complaint):
        raise PermissionDenied
    text = (text or "").strip()
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if action not in permitted_actions(by, complaint):
            if not can(by, "handle", complaint):
                raise PermissionDenied(_("您无权处理该举报。"))
            raise ValidationError({"action": _("当前状态下不能执行此操作。")})
        needs_text = (ComplaintAction.REPLY, ComplaintAction.REJECT, ComplaintAction.NOTE)
        if action in needs_text and not text:
            field = {"reply": "reply", "reject": "reason"}.get(action, "text")
            raise ValidationError({field: _("请填写内容。")})
        now = timezone.now()
        before = complaint.state
        _starts, to = MOVES[action]
        if to is not None:
            complaint.state = to
        if action == ComplaintAction.ACCEPT:
            complaint.accepted_at = now
        elif action == ComplaintAction.REPLY:
            complaint.reply, complaint.replied_at = text, now
            complaint.accepted_at = complaint.accepted_at or now
        elif action == ComplaintAction.CLOSE:
            complaint.closed_at = now
        elif action == ComplaintAction.REJECT:
            complaint.reason, complaint.closed_at = text, now
        if to is not None:
            complaint.save()
        ComplaintEvent.objects.create(
            complaint=complaint,
            at=now,
            action=action,
            from_state=before,
            to_state=complaint.state,
            username=by.get_username(),
            text=text,
            public=action != ComplaintAction.NOTE,
        )
    return complaint


def link_case(
    complaint: Complaint, *, kind: str, object_id: Any, label: str, url: str = "", by: Any = None
) -> ComplaintLink:
    """Record that ``complaint`` opened a case elsewhere (``kind`` "inspection" or
    "enforcement", its id and a label the filer sees); accepts the complaint if still new.
    Idempotent on (complaint, kind, id)."""
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        link, created = ComplaintLink.objects.get_or_create(
            complaint=complaint,
            kind=kind,
            object_id=str(object_id),
            defaults={"label": label[:200], "url": url[:300]},
        )
        if created:
            before = complaint.state
            if complaint.state == ComplaintState.NEW:
                complaint.state, complaint.accepted_at = ComplaintState.ACCEPTED, timezone.now()
                complaint.save()
            ComplaintEvent.objects.create(
                complaint=complaint,
                action=ComplaintAction.LINK,
                from_state=before,
                to_state=complaint.state,
                username=by.get_username() if getattr(by, "is_authenticated", False) else "",
                text=label[:200],
            )
    return link


def notify_overdue(now: Any = None) -> int:
    """Notify the handler (township or bureau) once for each complaint past its reply
    deadline and still unanswered. Returns how many."""
    now = now or timezone.now()
    late = Complaint.objects.filter(state__in=OPEN_STATES, due_at__lt=now, overdue_notified=False)
    n = 0
    for complaint in late.select_related("township"):
        with transaction.atomic():
            notify(
                event=Event.COMPLAINT_OVERDUE,
                title=_("举报 %s 已超过答复期限") % complaint.number,
                body=complaint.description[:300],
                township=complaint.township_id,
                url=complaint.get_absolute_url(),
                severity="warning",
            )
            Complaint.objects.filter(pk=complaint.pk).update(overdue_notified=True)
        n += 1
    return n


def forget_addresses(now: Any = None) -> int:
    """Delete the rate limit's records older than two days (the limit looks back one day)."""
    now = now or timezone.now()
    deleted, _by_model = FilingAttempt.objects.filter(at__lt=now - timedelta(days=2)).delete()
    return deleted
