"""``aquifer audit verify [--json]``: check the audit trail's hash chain (core.chain).

Walks every entry in id order, recomputes its hash and checks that it names its predecessor's;
prints the number of entries checked and the head hash, or the first broken link (the entry's
id and what differs). Also says when an append-only trigger is missing or disabled. Exit
status 1 when anything is wrong, so that a cron job or monitoring can alert on it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aquifer.core import chain


def report(result: chain.Verification) -> dict[str, Any]:
    """The verification as JSON (the API's body too)."""
    broken = result.broken
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head": result.head,
        "broken": None
        if broken is None
        else {
            "id": broken.id,
            "problem": broken.problem,
            "message": broken.message,
            "expected": broken.expected,
            "found": broken.found,
        },
        "missing_triggers": result.missing_triggers,
    }


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("审计记录：verify 校验哈希链，指出第一处断裂")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出"))

    def handle(self, *args: Any, **options: Any) -> None:
        result = chain.verify()
        if options["json"]:
            self.stdout.write(json.dumps(report(result), ensure_ascii=False, indent=2))
        elif result.broken is None:
            self.stdout.write(
                _("哈希链完整：已校验 %(n)d 条审计记录，链头 %(head)s")
                % {"n": result.checked, "head": result.head or "—"}
            )
        else:
            b = result.broken
            self.stderr.write(
                _("哈希链在第 %(id)d 条审计记录处断裂（此前 %(n)d 条完好）：%(message)s")
                % {"id": b.id, "n": result.checked, "message": b.message}
            )
            self.stderr.write(
                _("应为 %(expected)s，实为 %(found)s")
                % {
                    "expected": b.expected or "—",
                    "found": b.found or "—",
                }
            )
        if result.missing_triggers:
            self.stderr.write(
                _("缺少或已停用的只追加触发器：%s（请运行 aquifer migrate 或检查数据库权限）")
                % ", ".join(result.missing_triggers)
            )
        if not result.ok:
            raise CommandError(_("审计记录校验未通过。"), returncode=1)
