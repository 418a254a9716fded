"""``aquifer demo [--no-serve] [--wells N] [--host H] [--port P]``: a demo county, then serve it.

Creates or upgrades the database (``migrate``), builds the demo county
(:func:`aquifer.registry.demo.build_demo`: zones, water users, wells, devices, one account
per role), prints the address and the demo accounts, then runs ``aquifer serve``. Running it
again leaves the same data. The database is the configured one (``DATABASE_URL``; by default
``var/aquifer.sqlite3`` under the current directory).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from rich.console import Console
from rich.table import Table

from aquifer.accounting import demo as accounting_demo
from aquifer.analysis import demo as analysis_demo
from aquifer.closure import demo as closure_demo
from aquifer.core.checks import development_key_in_use
from aquifer.core.management.commands.serve import url_of
from aquifer.enforcement import demo as enforcement_demo
from aquifer.maintenance import demo as maintenance_demo
from aquifer.monitoring import demo as monitoring_demo
from aquifer.notifications import demo as notifications_demo
from aquifer.opendata import demo as opendata_demo
from aquifer.permits import demo as permits_demo
from aquifer.portal import demo as portal_demo
from aquifer.registry.demo import ACCOUNTS, DEMO_PASSWORD, MAX_WELLS, build_demo
from aquifer.rights import demo as rights_demo
from aquifer.supervision import demo as supervision_demo
from aquifer.telemetry.demo import build_history
from aquifer.telemetry.simulator.demo import start_demo_simulation

#: The apps whose ``demo.build`` adds to the demo county, in dependency order: permits before
#: accounting (quotas of unmetered wells), monitoring before maintenance (tickets from alarms),
#: accounting before analysis (zone balance) and rights (saved water).
DEMO_APPS: list[tuple[Callable[..., Any], Any]] = [
    (permits_demo.build, _lazy("取水许可")),
    (accounting_demo.build, _lazy("取水量核算")),
    (monitoring_demo.build, _lazy("监测预警")),
    (notifications_demo.build, _lazy("消息通知")),
    (maintenance_demo.build, _lazy("设备运维")),
    (analysis_demo.build, _lazy("分析评价")),
    (rights_demo.build, _lazy("水权交易")),
    (closure_demo.build, _lazy("关井压采")),
    (enforcement_demo.build, _lazy("执法监管")),
    (supervision_demo.build, _lazy("考核督查")),
    (portal_demo.build, _lazy("公众服务")),
    (opendata_demo.build, _lazy("开放数据")),
]


def _prefixed(label: str) -> Callable[[str], str]:
    return lambda step: f"{label}：{step}"


class Steps:
    """The demo's progress: a live status line on a terminal; elsewhere (a log file, a pipe,
    CI) one plain line per step and sub-step, stamped with the seconds since the command
    started (``[  12.3 s] …``)."""

    def __init__(self, console: Console, started: float) -> None:
        self.console = console
        self.started = started
        self.live = console.is_terminal

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def line(self, text: str) -> None:
        # soft_wrap: one line each, whatever the width rich assumes for a file (80 columns).
        self.console.print(
            f"[{self.elapsed():6.1f} s] {text}", markup=False, highlight=False, soft_wrap=True
        )

    @contextmanager
    def step(self, text: str, sub: Callable[[str], str]) -> Iterator[Callable[[str], None]]:
        """A step: yields the callback its sub-steps report to (``sub`` formats them)."""
        if self.live:
            with self.console.status(text) as status:
                yield lambda name: status.update(sub(name))
        else:
            self.line(text)
            yield lambda name: self.line(sub(name))


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("建一个演示县（分区、取用水户、取水井、设备、各角色账号），然后启动网页服务。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help=_("只建数据，不启动服务"))
        parser.add_argument(
            "--wells", type=int, default=600, metavar="N", help=_("取水井数量（默认 600）")
        )
        parser.add_argument("--host", default="127.0.0.1", help=_("监听地址（默认 127.0.0.1）"))
        parser.add_argument("--port", type=int, default=8000, help=_("端口（默认 8000）"))
        parser.add_argument(
            "--history-days",
            type=int,
            default=365,
            metavar="D",
            help=_("为监测井和模拟设备生成的历史数据天数（默认 365；0 不生成）"),
        )
        parser.add_argument(
            "--live-devices",
            type=int,
            default=10,
            metavar="N",
            help=_("服务时经网关实时上报的模拟设备数（默认 10；0 不模拟）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        wells = options["wells"]
        if not 1 <= wells <= MAX_WELLS:
            raise CommandError(_("取水井数量应在 1 至 %d 之间。") % MAX_WELLS)
        console = Console(file=cast(IO[str], self.stdout._out), highlight=False)
        steps = Steps(console, started)
        database = settings.DATABASES["default"]
        console.print(_("数据库 (database): %s") % database.get("NAME"))

        with steps.step(_("创建或升级数据库 (migrating)…"), str):
            call_command("migrate", interactive=False, verbosity=0)
        with steps.step(
            _("生成演示数据 (building the demo county)…"), lambda s: _("生成演示数据：%s…") % s
        ) as log:
            summary = build_demo(wells=wells, log=log)

        if options["history_days"] > 0:
            with steps.step(
                _("生成历史监测数据 (reading history)…"),
                lambda s: _("生成历史监测数据：%s…") % s,
            ) as log:
                stored = build_history(
                    days=options["history_days"], live_devices=options["live_devices"], log=log
                )
            console.print(_("历史监测数据：新存 %d 条。") % stored)

        # Each app's own demo, in the order their data builds on each other's.
        for build, label in DEMO_APPS:
            with steps.step(_("演示数据：%s…") % label, _prefixed(str(label))) as log:
                build(log=log)

        created = sum(summary["created"].values())
        updated = sum(summary["updated"].values())
        console.print(
            _(
                "演示县已就绪（%(s).1f 秒）：%(zones)d 个分区，%(users)d 个取用水户，"
                "%(wells)d 眼取水井（其中监测井 %(mon)d 眼），%(devices)d 台设备；"
                "本次新建 %(created)d 条、更新 %(updated)d 条。"
            )
            % {
                # From the start of the command: migrations, history and every app's demo.
                "s": steps.elapsed(),
                "zones": summary["zones"],
                "users": summary["water_users"],
                "wells": summary["wells"],
                "mon": summary["monitoring_wells"],
                "devices": summary["devices"],
                "created": created,
                "updated": updated,
            }
        )

        table = Table(title=_("演示账号 (demo accounts)"))
        table.add_column(_("角色 role"))
        table.add_column(_("用户名 user"), style="bold")
        table.add_column(_("密码 password"))
        table.add_column(_("可见范围 sees"), overflow="fold")
        for account in ACCOUNTS:
            role = str(account.role.label) + ("（超级用户）" if account.superuser else "")
            table.add_row(role, account.username, DEMO_PASSWORD, account.sees)
        console.print(table)
        console.print(_("wateruser 对应的取用水户：%s") % summary["water_user_account"])

        url = url_of(options["host"], options["port"])
        console.print(_("网址 (open): [bold]%s[/bold]") % url)
        console.print(_("管理后台 (admin): %sadmin/") % url)
        console.print(_("演示数据均为虚构，分区为示意范围 (demo data is invented)."))
        if options["no_serve"]:
            console.print(_("启动服务：aquifer serve --port %d") % options["port"])
            return
        simulation = None
        if options["live_devices"] > 0:
            simulation = start_demo_simulation(n_devices=options["live_devices"], interval=60.0)
            console.print(
                _("网关已启动 (gateway): %(ports)s；%(n)d 台模拟设备每分钟上报。")
                % {
                    "ports": ", ".join(f"{p} :{port}" for p, port in simulation.ports.items()),
                    "n": len(simulation.devices),
                }
            )
        if development_key_in_use():
            console.print(_("演示使用公开的开发密钥；正式使用请设置 AQUIFER_SECRET_KEY。"))
        try:
            call_command(
                "serve",
                host=options["host"],
                port=options["port"],
                allow_development_key=True,  # invented data; said above when it is used
                stdout=self.stdout._out,
                stderr=self.stderr._out,
            )
        finally:
            if simulation is not None:
                simulation.stop()
