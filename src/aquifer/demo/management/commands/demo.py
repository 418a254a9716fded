"""``aquifer demo [--no-serve] [--fill-first] [--wells N] [--host H] [--port P]``: a demo county,
then serve it.

First, with the static files collected beside it (:func:`aquifer.core.staticfiles.
ensure_collected`, on a thread), it creates or upgrades the database (``migrate``) and builds
the registry of the demo county (:func:`aquifer.registry.demo.build_demo`: zones, water users,
wells, devices, one account per role), prints the address and the demo accounts and starts
``aquifer serve`` — the first page answers within seconds. The rest (the reading history and
every app's demo, :func:`fill`: minutes on two cores) is filled in behind the server by a
second process (``aquifer demo --fill-only``), whose stamped lines appear in the same output
and whose progress the pages show in a banner (:mod:`aquifer.demo.progress`); when it is done,
the background jobs and the live simulated devices start. ``--no-serve`` and ``--fill-first``
fill everything before (not) serving, in the same order, so the data are the same either way.

Running it again leaves the same data (every part is idempotent). The database is the
configured one (``DATABASE_URL``; by default ``var/aquifer.sqlite3`` under the current
directory).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
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
from aquifer.core.jobs import start_background
from aquifer.core.management.commands.serve import url_of
from aquifer.core.staticfiles import ensure_collected
from aquifer.demo import progress
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

    def __init__(self, console: Console, started: float, live: bool | None = None) -> None:
        self.console = console
        self.started = started
        self.live = console.is_terminal if live is None else live

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


def fill(history_days: int, live_devices: int, steps: Steps, wells: int | None = None) -> None:
    """Everything after the schema, in the order the parts build on each other: the registry
    (when ``wells`` is given: the background fill), the reading history, then each app's
    demo. Records its progress for the pages' banner."""
    parts: list[tuple[str, Callable[[Callable[[str], None]], Any]]] = []
    if wells is not None:

        def registry(log: Callable[[str], None]) -> None:
            summary = build_demo(wells=wells, log=log)
            steps.line(
                _("演示县：%(wells)d 眼取水井，%(devices)d 台设备，%(users)d 个取用水户。")
                % {
                    "wells": summary["wells"],
                    "devices": summary["devices"],
                    "users": summary["water_users"],
                }
            )

        parts.append((_("取水井、设备与账号 (the registry)"), registry))
    if history_days > 0:

        def history(log: Callable[[str], None]) -> None:
            stored = build_history(days=history_days, live_devices=live_devices, log=log)
            steps.line(_("历史监测数据：新存 %d 条。") % stored)

        parts.append((_("生成历史监测数据 (reading history)"), history))
    parts += [(str(label), build) for build, label in DEMO_APPS]
    total = len(parts)
    for done, (label, run) in enumerate(parts):
        progress.write(step=label, done=done, total=total)
        with steps.step(_("演示数据：%s…") % label, _prefixed(label)) as log:
            try:
                run(log)
            except Exception as exc:
                progress.write(step=label, done=done, total=total, finished=True, failed=str(exc))
                raise
    progress.write(step="", done=total, total=total, finished=True)


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("建一个演示县（分区、取用水户、取水井、设备、各角色账号），然后启动网页服务。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help=_("只建数据，不启动服务"))
        parser.add_argument(
            "--fill-first",
            action="store_true",
            help=_("先补齐全部演示数据再启动服务（默认先启动服务，后台补齐）"),
        )
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
        # The second process of a served demo: fill in the rest (see the module docstring),
        # stamping its lines from the first process's start (a time.time() value).
        parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--t0", type=float, default=None, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if options["t0"] is not None:
            started -= max(0.0, time.time() - options["t0"])
        t0 = time.time() - (time.perf_counter() - started)
        wells = options["wells"]
        if not 1 <= wells <= MAX_WELLS:
            raise CommandError(_("取水井数量应在 1 至 %d 之间。") % MAX_WELLS)
        console = Console(file=cast(IO[str], self.stdout._out), highlight=False)
        if options["fill_only"]:
            # Plain stamped lines: they interleave with the server's output.
            fill(
                options["history_days"],
                options["live_devices"],
                Steps(console, started, False),
                wells=wells,
            )
            Steps(console, started, False).line(_("演示县已完整 (history filled in)。"))
            return
        steps = Steps(console, started)
        database = settings.DATABASES["default"]
        console.print(_("数据库 (database): %s") % database.get("NAME"))

        # Static files on a thread of their own (compressing plotly takes seconds of C code)
        # while migrate and the registry keep the other core busy.
        static_error: list[BaseException] = []

        def collect() -> None:
            try:
                if ensure_collected():
                    steps.line(_("静态文件已收集并压缩 (static files collected)。"))
            except BaseException as exc:  # reported below, in this thread
                static_error.append(exc)

        collector = threading.Thread(target=collect, name="aquifer-collectstatic")
        collector.start()
        in_background = not (options["no_serve"] or options["fill_first"])
        with steps.step(_("创建或升级数据库 (migrating)…"), str):
            # The server runs Django's checks when it starts; here they would only delay it.
            call_command("migrate", interactive=False, verbosity=0, skip_checks=True)
        summary: dict[str, Any] | None = None
        if not in_background:
            # Serving in the background fill's company, the registry is its first part: the
            # first page answers as soon as the schema is there.
            with steps.step(
                _("生成演示数据 (building the demo county)…"),
                lambda s: _("生成演示数据：%s…") % s,
            ) as log:
                summary = build_demo(wells=wells, log=log)
        collector.join()
        if static_error:
            raise static_error[0]

        if not in_background:
            fill(options["history_days"], options["live_devices"], steps)
        self._summary(console, steps, summary)

        url = url_of(options["host"], options["port"])
        console.print(_("网址 (open): [bold]%s[/bold]") % url)
        console.print(_("管理后台 (admin): %sadmin/") % url)
        console.print(_("演示数据均为虚构，分区为示意范围 (demo data is invented)."))
        if options["no_serve"]:
            console.print(_("启动服务：aquifer serve --port %d") % options["port"])
            return
        if development_key_in_use():
            console.print(_("演示使用公开的开发密钥；正式使用请设置 AQUIFER_SECRET_KEY。"))
        simulation: list[Any] = []
        filler: subprocess.Popen[bytes] | None = None
        if in_background:
            filler = self._start_fill(options, t0)
            progress.watch()
            console.print(_("服务已可访问；其余演示数据在后台补齐，页面顶部显示进度。"))
            threading.Thread(
                target=self._after_fill,
                args=(filler, options, console, simulation),
                name="aquifer-demo-fill",
                daemon=True,
            ).start()
        else:
            self._go_live(options, console, simulation)
        try:
            call_command(
                "serve",
                host=options["host"],
                port=options["port"],
                allow_development_key=True,  # invented data; said above when it is used
                no_jobs=in_background,  # started when the fill is done (_after_fill)
                stdout=self.stdout._out,
                stderr=self.stderr._out,
            )
        finally:
            progress.stop_watching()
            if filler is not None and filler.poll() is None:
                filler.terminate()
                filler.wait(30)
            for s in simulation:
                s.stop()

    def _start_fill(self, options: dict[str, Any], t0: float) -> subprocess.Popen[bytes]:
        """``aquifer demo --fill-only`` in a process of its own (the other core, not this
        process's GIL), its output into this command's."""
        progress.write(step=str(_("准备中")), done=0, total=1)
        command = [
            sys.executable,
            "-m",
            "aquifer.cli",
            "demo",
            "--fill-only",
            "--t0",
            repr(t0),
            "--wells",
            str(options["wells"]),
            "--history-days",
            str(options["history_days"]),
            "--live-devices",
            str(options["live_devices"]),
        ]
        out: IO[str] | None = cast(IO[str], self.stdout._out)
        try:
            cast(IO[str], out).fileno()
        except (AttributeError, OSError, ValueError):
            out = None  # not a real file (a test's StringIO): the child prints to ours
        stderr = subprocess.STDOUT if out is not None else None
        return subprocess.Popen(command, stdout=out, stderr=stderr)

    def _after_fill(
        self,
        filler: subprocess.Popen[bytes],
        options: dict[str, Any],
        console: Console,
        simulation: list[Any],
    ) -> None:
        """Wait for the fill; then the background jobs and the live devices start."""
        code = filler.wait()
        if code != 0:
            console.print(_("后台补齐演示数据失败（退出码 %d）；页面仍可访问。") % code)
            return
        self._go_live(options, console, simulation)
        if start_background() is not None:
            console.print(_("后台任务已启动 (background jobs running)。"))

    def _go_live(self, options: dict[str, Any], console: Console, simulation: list[Any]) -> None:
        if options["live_devices"] <= 0:
            return
        sim = start_demo_simulation(n_devices=options["live_devices"], interval=60.0)
        simulation.append(sim)
        console.print(
            _("网关已启动 (gateway): %(ports)s；%(n)d 台模拟设备每分钟上报。")
            % {
                "ports": ", ".join(f"{p} :{port}" for p, port in sim.ports.items()),
                "n": len(sim.devices),
            }
        )

    def _summary(self, console: Console, steps: Steps, summary: dict[str, Any] | None) -> None:
        if summary is None:
            console.print(
                _("数据库已就绪（%.1f 秒）；取水井、设备、账号、历史数据和各模块示例在后台生成。")
                % steps.elapsed()
            )
            self._accounts(console)
            return
        created = sum(summary["created"].values())
        updated = sum(summary["updated"].values())
        console.print(
            _(
                "演示县已就绪（%(s).1f 秒）：%(zones)d 个分区，%(users)d 个取用水户，"
                "%(wells)d 眼取水井（其中监测井 %(mon)d 眼），%(devices)d 台设备；"
                "本次新建 %(created)d 条、更新 %(updated)d 条。"
            )
            % {
                # From the start of the command.
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
        self._accounts(console)
        console.print(_("wateruser 对应的取用水户：%s") % summary["water_user_account"])

    def _accounts(self, console: Console) -> None:
        table = Table(title=_("演示账号 (demo accounts)"))
        table.add_column(_("角色 role"))
        table.add_column(_("用户名 user"), style="bold")
        table.add_column(_("密码 password"))
        table.add_column(_("可见范围 sees"), overflow="fold")
        for account in ACCOUNTS:
            role = str(account.role.label) + ("（超级用户）" if account.superuser else "")
            table.add_row(role, account.username, DEMO_PASSWORD, account.sees)
        console.print(table)
