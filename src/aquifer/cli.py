"""The ``aquifer`` command: Django's management commands, with Aquifer's settings.

``aquifer`` alone (or ``-h``/``--help``) prints Aquifer's own commands; ``aquifer help`` lists
every command, Django's included; anything else runs that management command.
"""

from __future__ import annotations

import os
import sys

__all__ = ["COMMANDS", "main", "short_help"]

#: Aquifer's own commands, as the short help lists them: (usage, what it does).
COMMANDS: list[tuple[str, str]] = [
    ("demo", "演示：建一个演示县的数据，启动网页、网关和模拟设备 (demo county, all in one)"),
    ("serve", "启动网页和 API 服务 (web server)"),
    ("template wells|users [-o FILE]", "生成 Excel 导入模板 (write an import template)"),
    (
        "import FILE.xlsx [--as USERNAME] [--dry-run]",
        "从 Excel 导入取水井或取用水户，全部无误才写入 (all-or-nothing import)",
    ),
    ("token create|list|revoke", "管理 API 令牌 (API tokens for machine clients)"),
    ("frames decode HEX", "解析一帧遥测报文，输出 JSON (decode a telemetry frame)"),
    ("gateway [--mqtt]", "遥测网关：SL651、SZY206 TCP 与 MQTT 接入 (telemetry gateway)"),
    ("simulate --devices N", "模拟设备按真实规约上报 (simulated devices)"),
    ("trend SERIES.csv", "水位趋势检验与止降返升状态 (level trend and recovery status)"),
    ("quality classify SAMPLES.csv", "按 GB/T 14848-2017 评价水质类别 (water-quality class)"),
    (
        "market clear ORDERS.csv",
        "水权交易：统一价格双向拍卖出清，输出 JSON (clear a double auction)",
    ),
    ("worker", "后台任务：质量检查、告警、核算等定时作业 (background jobs)"),
    ("audit verify", "校验审计记录的哈希链 (verify the audit trail's hash chain)"),
    ("check [--deploy]", "检查配置 (check the installation; --deploy for production)"),
    ("migrate", "创建或升级数据库 (create or upgrade the database)"),
    ("createsuperuser", "创建管理员账号 (create an administrator)"),
]


def short_help(prog: str = "aquifer") -> str:
    width = max(len(usage) for usage, _what in COMMANDS)
    lines = [
        "Aquifer — 地下水管理信息系统 (groundwater management information system)",
        "",
        f"用法 usage: {prog} COMMAND [options]",
        "",
    ]
    lines += [f"  {usage.ljust(width)}  {what}" for usage, what in COMMANDS]
    lines += [
        "",
        f"“{prog} help COMMAND” 显示命令的选项 (options of one command); "
        f"“{prog} help” 列出全部命令 (every command, Django's included).",
        "数据库由环境变量 DATABASE_URL 指定 (the database is chosen by DATABASE_URL).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``aquifer`` script (pyproject.toml ``[project.scripts]``)."""
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aquifer.config.settings")
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(short_help())
        return 0
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
