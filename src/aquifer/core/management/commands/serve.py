"""``aquifer serve [--host 127.0.0.1] [--port 8000] [--threads 8]``: the web UI and the API.

Serves the WSGI application with waitress, a pure-Python production server (no compiler, no
C extension, runs on Windows too). Static files come through whitenoise in the application
itself, so no separate web server is needed; they are collected (hashed names, gzip and brotli
copies) into ``STATIC_ROOT`` first when missing or stale (:mod:`aquifer.core.staticfiles`).
Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
from typing import Any

import waitress.server
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.wsgi import get_wsgi_application
from django.urls import reverse
from django.utils.translation import gettext as _

from aquifer.core.checks import development_key_in_use, secret_key_message
from aquifer.core.jobs import start_background, stop_background
from aquifer.core.processes import settle
from aquifer.core.staticfiles import ensure_collected

_ANY_ADDRESS = ("0.0.0.0", "::", "")


def url_of(host: str, port: int) -> str:
    """The address to open in a browser for a server listening on ``host:port``."""
    shown = "127.0.0.1" if host in _ANY_ADDRESS else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("启动网页和 API 服务（waitress）；Ctrl-C 停止。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help=_("监听地址（默认 127.0.0.1；0.0.0.0 为所有网卡）")
        )
        parser.add_argument("--port", type=int, default=8000, help=_("端口（默认 8000）"))
        parser.add_argument("--threads", type=int, default=8, help=_("工作线程数（默认 8）"))
        # For `aquifer demo` alone (its data is invented): serve with the development key.
        parser.add_argument("--allow-development-key", action="store_true", help=argparse.SUPPRESS)
        # For `aquifer demo` alone: it starts the jobs itself once the demo county is filled in.
        parser.add_argument("--no-jobs", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if development_key_in_use() and not options["allow_development_key"]:
            raise CommandError(secret_key_message())
        if ensure_collected():
            self.stdout.write(_("静态文件已收集并压缩 (static files collected)。"))
        application = get_wsgi_application()
        settle(lambda: reverse("home"))  # URL patterns loaded; the long-lived heap frozen
        host, port, threads = options["host"], options["port"], options["threads"]
        if not 0 < port < 65536:
            raise CommandError(_("端口应在 1 至 65535 之间：%s") % port)
        if threads < 1:
            raise CommandError(_("线程数至少为 1。"))
        try:
            server = waitress.server.create_server(
                application, host=host, port=port, threads=threads, ident="aquifer"
            )
        except OSError as exc:
            raise CommandError(
                _("无法在 %(host)s:%(port)s 上监听：%(why)s")
                % {"host": host, "port": port, "why": exc.strerror or exc}
            ) from exc

        self.stdout.write(_("Aquifer 已启动 (serving at) %s") % url_of(host, port))
        if host in _ANY_ADDRESS:
            self.stdout.write(
                _(
                    "正在监听所有网卡：从其他电脑访问时，请把本机的地址或域名加入 "
                    "AQUIFER_ALLOWED_HOSTS（当前：%s）。"
                )
                % ", ".join(settings.ALLOWED_HOSTS)
            )
        if not options["no_jobs"] and start_background() is not None:  # in a daemon thread
            self.stdout.write(_("后台任务已启动 (background jobs running)。"))
        self.stdout.write(_("按 Ctrl-C 停止 (press Ctrl-C to stop)。"))
        self.stdout.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
            stop_background()
        self.stdout.write(_("已停止 (stopped)。"))
