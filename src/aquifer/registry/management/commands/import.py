"""``aquifer import FILE.xlsx [--as USERNAME] [--kind wells|users] [--dry-run]``.

Validates every row first; any fault is listed (row, column, reason) on stderr and nothing is
written (exit status 1). A valid file is imported whole, in one transaction.
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aquifer.registry.imports import KINDS, ImportFileError, ImportResult, import_workbook


def error_table(result: ImportResult) -> Table:
    """The row-by-row fault report as a rich table: row, column, reason."""
    table = Table(show_lines=False)
    table.add_column(_("行"), justify="right", style="bold")
    table.add_column(_("列"))
    table.add_column(_("原因"), overflow="fold")
    for e in result.errors:
        table.add_row(str(e.row), e.column or "—", e.reason)
    return table


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "从 Excel (.xlsx) 导入取水井或取用水户：先逐行校验，全部无误才在一个事务中全部写入。"
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE.xlsx", help=_("要导入的 .xlsx 文件"))
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help=_("以该账号的身份和管辖范围导入（默认：系统，全县范围）"),
        )
        parser.add_argument("--kind", choices=sorted(KINDS), help=_("导入类型（默认：按表头识别）"))
        parser.add_argument("--dry-run", action="store_true", help=_("只校验，不写入任何记录"))

    def handle(self, *args: Any, **options: Any) -> None:
        stream = getattr(self.stderr, "_out", sys.stderr)
        console = Console(
            file=stream,
            width=None if stream.isatty() else 160,
            highlight=False,
        )
        user = None
        if options["as_user"]:
            User = get_user_model()
            user = User.objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(_("没有用户名为 %s 的账号。") % options["as_user"])
            if not user.is_active:
                raise CommandError(_("账号 %s 已停用。") % options["as_user"])

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    label = _("校验") if phase == "validate" else _("写入")
                    tasks[phase] = bar.add_task(label, total=total)
                bar.update(tasks[phase], completed=done)

            try:
                result = import_workbook(
                    options["file"],
                    user=user,
                    kind=options["kind"],
                    dry_run=options["dry_run"],
                    progress=progress,
                )
            except (ImportFileError, PermissionDenied) as exc:
                raise CommandError(str(exc)) from exc

        label = KINDS[result.kind].label
        if result.errors:
            console.print(
                _("%(label)s导入未通过校验：%(rows)d 行中有 %(n)d 处错误，未写入任何记录。")
                % {"label": label, "rows": result.rows, "n": len(result.errors)}
            )
            console.print(error_table(result))
            raise CommandError(_("%(n)d 处错误，未导入任何记录。") % {"n": len(result.errors)})
        if result.dry_run:
            self.stdout.write(
                _("校验通过：%(n)d 行%(label)s（试运行，未写入）。")
                % {"n": result.rows, "label": label}
            )
        else:
            self.stdout.write(
                _("已导入 %(n)d 条%(label)s记录。") % {"n": result.created, "label": label}
            )
