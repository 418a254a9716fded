"""A case's evidence: append-only, each piece with a content hash, the list hash-chained.

A piece's ``content`` is a snapshot of what it shows (a frame's hex as received, readings,
an alarm as it stood, a file's name, size and SHA-256), never a live link, so a later change
of the source does not change the evidence. Its ``content_hash`` is SHA-256 of the content's
canonical form (``core.digest``); its ``entry_hash`` covers the case, its sequence number,
kind, label, content hash, time, who attached it and ``prev_hash`` — the entry hash of the
case's piece before it ("" for the first). Appends to one case are serialised by a row lock
on the case (``select_for_update``), so two never chain onto the same predecessor.

:func:`verify` walks every case's chain and names the first broken link (``aquifer
enforcement verify``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from aquifer.core.chain import missing_triggers
from aquifer.core.digest import ChainBreak, canonical, first_break, normal, sha256_hex, utc_iso
from aquifer.enforcement.models import Case, Evidence

#: The append-only triggers of migration 0002.
TRIGGERS = {
    "sqlite": ["enforcement_evidence_no_update", "enforcement_evidence_no_delete"],
    "postgresql": ["enforcement_evidence_no_change", "enforcement_evidence_no_truncate"],
}

__all__ = ["Verification", "append", "content_hash", "entry_hash", "verify"]

#: Version of the canonical form of an evidence entry.
VERSION = 1


def content_hash(content: dict[str, Any]) -> str:
    return sha256_hex(canonical(normal(json.loads(json.dumps(content)))))


def entry_hash(e: Evidence) -> str:
    return sha256_hex(
        canonical(
            {
                "v": VERSION,
                "case": int(e.case_id),
                "seq": int(e.seq),
                "kind": e.kind,
                "label": e.label,
                "content_hash": e.content_hash,
                "attachment": e.attachment_id,
                "attached_at": utc_iso(e.attached_at),
                "username": e.username,
                "prev_hash": e.prev_hash,
            }
        )
    )


def append(
    case: Case,
    kind: str,
    label: str,
    content: dict[str, Any],
    by: Any = None,
    attachment_id: int | None = None,
) -> Evidence:
    """Attach one piece of evidence to ``case`` at the end of its chain."""
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        last = (
            Evidence.objects.filter(case=case).order_by("-seq").values_list("seq", "entry_hash")
        ).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, "")
        stored = normal(json.loads(json.dumps(content, default=str)))
        e = Evidence(
            case=case,
            seq=seq,
            kind=kind,
            label=label[:200],
            content=stored,
            content_hash=content_hash(stored),
            prev_hash=prev,
            attachment_id=attachment_id,
            attached_by=by if getattr(by, "is_authenticated", False) else None,
            username=by.get_username() if getattr(by, "is_authenticated", False) else "",
        )
        e.entry_hash = entry_hash(e)
        e.save()
        return e


@dataclass(frozen=True)
class Verification:
    cases: int
    checked: int
    broken: Evidence | None
    problem: str
    message: str
    missing_triggers: list[str]

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.missing_triggers


def _recomputed(e: Evidence) -> str:
    # A piece's content must still hash to its content hash, and its entry to its entry hash.
    if content_hash(e.content) != e.content_hash:
        return "content:" + content_hash(e.content)
    return entry_hash(e)


def verify(case_ids: list[int] | None = None) -> Verification:
    """Recompute every case's chain; the first piece whose content or link does not hold."""
    qs = Case.objects.order_by("id")
    if case_ids is not None:
        qs = qs.filter(pk__in=case_ids)
    cases = checked = 0
    for case_id in qs.values_list("id", flat=True).iterator():
        pieces = list(Evidence.objects.filter(case_id=case_id).order_by("seq"))
        n, _head, broken = first_break(
            pieces,
            key=lambda e: e,
            prev_of=lambda e: e.prev_hash,
            hash_of=lambda e: e.entry_hash,
            compute=_recomputed,
        )
        cases, checked = cases + 1, checked + n
        if broken is not None:
            return Verification(
                cases, checked, broken.key, broken.problem, _message(broken), _triggers()
            )
        seqs = [e.seq for e in pieces]
        if seqs != list(range(1, len(seqs) + 1)):
            missing = next(i for i, s in enumerate(seqs, 1) if s != i)
            e = pieces[missing - 1]
            return Verification(
                cases,
                checked,
                e,
                "link",
                f"case {case_id}: evidence #{missing} is missing",
                _triggers(),
            )
    return Verification(cases, checked, None, "", "", _triggers())


def _triggers() -> list[str]:
    return missing_triggers(expected_by_vendor=TRIGGERS)


def _message(b: ChainBreak) -> str:
    e: Evidence = b.key
    where = f"case {e.case_id} evidence #{e.seq} (id {e.pk})"
    if b.problem == "link":
        return (
            f"{where} names a predecessor that is not the piece before it: "
            "a piece was removed, inserted or re-hashed"
        )
    if b.found.startswith("content:"):
        return (
            f"{where}: its content no longer matches its content hash "
            "(changed after it was attached)"
        )
    return f"{where}: its entry no longer matches its hash (label, time, kind or who was changed)"
