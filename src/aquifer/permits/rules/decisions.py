"""The engine's answer: :class:`Decision` (allowed or not) with every :class:`Reason`, each
with its sources; :class:`RefusedChange` for applying a refused change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aquifer.permits.rules.sources import SourceRef, _source_to_dict

__all__ = ["Decision", "Reason", "RefusedChange"]


@dataclass(frozen=True)
class Reason:
    """Why a change is refused (or the condition an exemption attaches), with its sources.

    ``zh`` / ``en`` are ready texts (for logs and old readers); ``code`` names the message
    (the rule id, or e.g. ``register.no_permit``) and ``params`` its values, so that a reader
    can render the reason in their own language (``aquifer.permits.reasons``).
    """

    rule_id: str
    zh: str
    en: str
    sources: tuple[SourceRef, ...]
    code: str = ""  # "" = rule_id
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def message_code(self) -> str:
        return self.code or self.rule_id


@dataclass(frozen=True)
class Decision:
    """Allow or refuse, every reason for a refusal, and the conditions of an allowed change."""

    allowed: bool
    reasons: tuple[Reason, ...] = ()
    conditions: tuple[Reason, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for the audit trail and the API)."""

        def r(x: Reason) -> dict[str, Any]:
            return {
                "rule": x.rule_id,
                "code": x.message_code,
                "params": dict(x.params),
                "zh": x.zh,
                "en": x.en,
                "sources": [_source_to_dict(s) for s in x.sources],
            }

        return {
            "allowed": self.allowed,
            "reasons": [r(x) for x in self.reasons],
            "conditions": [r(x) for x in self.conditions],
        }


class RefusedChange(ValueError):
    """Raised by :func:`apply` for a change the rules refuse; carries the decision."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("; ".join(r.en for r in decision.reasons))
        self.decision = decision
