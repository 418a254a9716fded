"""``aquifer worker [--once] [--tick 5]``: run the background jobs in the foreground.

The same scheduler that ``aquifer serve`` and ``aquifer demo`` run in a thread
(:mod:`aquifer.core.jobs`); for production, where the web server runs elsewhere. Several
processes may run it at once: each job runs once per period (a lease in ``JobState``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("在前台运行后台任务（质量检查、离线与告警扫描、运行统计）；Ctrl-C 停止。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help=_("运行一次到期任务后退出"))
        parser.add_argument("--tick", type=float, default=5.0, help=_("检查间隔（秒，默认 5）"))
        parser.add_argument(
            "--job", action="append", default=[], help=_("立即运行指定任务（可重复）")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from aquifer.core import jobs

        if options["tick"] <= 0:
            raise CommandError(_("检查间隔必须为正数。"))
        registry = jobs.discover()
        if options["job"]:
            unknown = [n for n in options["job"] if n not in registry]
            if unknown:
                raise CommandError(
                    _("未知任务：%(names)s；已有：%(known)s")
                    % {"names": ", ".join(unknown), "known": ", ".join(sorted(registry))}
                )
            failed = False
            for name in options["job"]:
                result = jobs.run_job(registry[name], force=True)
                self.stdout.write(f"{name}: {result}")
                failed |= result is False
            if failed:
                raise CommandError(_("有任务运行失败，详见日志。"))
            return
        if options["once"]:
            for name, result in jobs.run_due().items():
                self.stdout.write(f"{name}: {result}")
            return
        logging.getLogger("aquifer.core.jobs").setLevel(logging.INFO)
        self.stdout.write(_("后台任务：%s") % ", ".join(sorted(registry)))
        self.stdout.write(_("按 Ctrl-C 停止 (press Ctrl-C to stop)。"))
        self.stdout.flush()
        scheduler = jobs.Scheduler(tick=options["tick"])
        try:
            scheduler.run_forever()
        except KeyboardInterrupt:
            scheduler.stop()
        self.stdout.write(_("已停止 (stopped)。"))
