"""``aquifer enforcement verify [--json] [--case N]``: check every case's evidence chain.

Recomputes each piece's content hash and entry hash and checks each link; prints the cases and
pieces checked, or the first broken link (case, sequence number, what differs), and any
append-only trigger that is missing or disabled. Exit status 1 when anything is wrong.

``aquifer enforcement metering``: raise (and clear) the metering compliance alarms;
``aquifer enforcement bypass --year Y``: fit Y−1's coefficients and raise Y's suspected
bypass alarms.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from aquifer.enforcement import compliance, evidence


def report(result: evidence.Verification) -> dict[str, Any]:
    e = result.broken
    return {
        "ok": result.ok,
        "cases": result.cases,
        "checked": result.checked,
        "broken": None
        if e is None
        else {
            "case": e.case_id,
            "seq": e.seq,
            "id": e.pk,
            "problem": result.problem,
            "message": result.message,
        },
        "missing_triggers": result.missing_triggers,
    }


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("执法：verify 校验证据哈希链；metering 计量合规告警；bypass 以电折水核查")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "metering", "bypass"])
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出"))
        parser.add_argument("--case", type=int, action="append", help=_("只校验该案件"))
        parser.add_argument("--year", type=int, help=_("年份"))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "metering":
            raised, cleared = compliance.raise_metering_alarms()
            self.stdout.write(
                _("计量不合规 %(n)d 口井；解除 %(c)d 条告警") % {"n": raised, "c": cleared}
            )
            return
        if options["action"] == "bypass":
            year = options["year"] or timezone.localdate().year
            fitted = compliance.fit(year - 1)
            n = compliance.raise_bypass_alarms(year)
            self.stdout.write(_("拟合 %(f)d 口井系数；疑似绕表 %(n)d 口井") % {"f": fitted, "n": n})
            return
        result = evidence.verify(options["case"])
        if options["json"]:
            self.stdout.write(json.dumps(report(result), ensure_ascii=False, indent=2))
        elif result.broken is None:
            self.stdout.write(
                _("证据链完整：%(c)d 个案件，已校验 %(n)d 项证据")
                % {"c": result.cases, "n": result.checked}
            )
        else:
            e = result.broken
            self.stderr.write(
                _("证据链断裂：案件 %(case)s 第 %(seq)s 项证据（id %(id)s）：%(msg)s")
                % {"case": e.case_id, "seq": e.seq, "id": e.pk, "msg": result.message}
            )
        if result.missing_triggers:
            self.stderr.write(
                _("缺少或已禁用的只追加触发器：%s") % ", ".join(result.missing_triggers)
            )
        if not result.ok:
            raise CommandError(_("证据链校验未通过"), returncode=1)
