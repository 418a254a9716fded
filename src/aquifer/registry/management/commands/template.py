"""``aquifer template wells|users [-o FILE]``: write an empty Excel import template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aquifer.registry.imports import KINDS, write_template


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("生成 Excel 导入模板（取水井 wells 或取用水户 users），表头为中文。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(KINDS), help=_("模板类型"))
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help=_("输出文件（默认：当前目录下的 <类型>-template.xlsx）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        target = Path(options["output"] or f"{kind}-template.xlsx")
        if target.suffix.lower() != ".xlsx":
            raise CommandError(_("输出文件应以 .xlsx 结尾：%s") % target)
        try:
            target.write_bytes(write_template(kind))
        except OSError as exc:
            raise CommandError(
                _("无法写入 %(path)s：%(why)s") % {"path": target, "why": exc.strerror or exc}
            ) from exc
        self.stdout.write(
            _("已生成%(label)s导入模板：%(path)s") % {"label": KINDS[kind].label, "path": target}
        )
