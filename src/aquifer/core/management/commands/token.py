"""``aquifer token create|list|revoke``: API tokens for machine clients.

``create USERNAME [--name NAME]`` prints the key once (only its SHA-256 is stored): on stdout
alone, so that ``KEY=$(aquifer token create meter-gw)`` works. ``revoke PREFIX`` takes the
prefix that ``list`` shows (or the whole key). Issuing and revoking are in the audit trail.
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from aquifer.core import audit
from aquifer.core.models import ApiToken


def _state(token: ApiToken) -> dict[str, Any]:
    """What the audit trail keeps of a token: never its key or hash."""
    return {
        "user_id": token.user_id,
        "name": token.name,
        "prefix": token.prefix,
        "revoked": token.revoked,
    }


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("管理 API 令牌：create USERNAME [--name NAME]、list、revoke PREFIX")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="create|list|revoke")
        create = sub.add_parser("create", help=_("为账号签发令牌（密钥只显示这一次）"))
        create.add_argument("username", metavar="USERNAME")
        create.add_argument("--name", default="", help=_("令牌名称（默认：cli-日期）"))
        listing = sub.add_parser("list", help=_("列出令牌（只显示前缀）"))
        listing.add_argument("--user", metavar="USERNAME", help=_("只列出该账号的令牌"))
        revoke = sub.add_parser("revoke", help=_("吊销令牌"))
        revoke.add_argument("prefix", metavar="PREFIX", help=_("令牌前缀（见 list）或完整密钥"))

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        with audit.audit_context(source="cli"):
            if action == "create":
                self.create(options["username"], options["name"])
            elif action == "list":
                self.list_tokens(options.get("user"))
            else:
                self.revoke(options["prefix"])

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("没有用户名为 %s 的账号。") % username)
        return user

    def create(self, username: str, name: str) -> None:
        user = self._user(username)
        if not user.is_active:
            raise CommandError(_("账号 %s 已停用，不能签发令牌。") % username)
        name = (name or "cli-" + timezone.localdate().isoformat())[:100]
        with transaction.atomic():
            token, key = ApiToken.issue(user, name)
            audit.record("create", token, None, _state(token))
        self.stdout.write(key)
        self.stderr.write(
            _(
                "已为 %(user)s 签发令牌“%(name)s”（前缀 %(prefix)s）。"
                "密钥只显示这一次，请立即妥善保存；"
                "使用方式：Authorization: Bearer <密钥>"
            )
            % {"user": username, "name": name, "prefix": token.prefix}
        )

    def list_tokens(self, username: str | None) -> None:
        qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
        if username:
            qs = qs.filter(user=self._user(username))
        if not qs.exists():
            self.stdout.write(_("没有令牌。"))
            return
        stream = getattr(self.stdout, "_out", sys.stdout)
        console = Console(file=stream, width=None if stream.isatty() else 160, highlight=False)
        table = Table(title=_("API 令牌"), title_justify="left")
        for header in (_("前缀"), _("账号"), _("名称"), _("签发时间"), _("最近使用"), _("状态")):
            table.add_column(header)
        for t in qs:
            table.add_row(
                t.prefix,
                t.user.get_username(),
                t.name,
                timezone.localtime(t.created_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(t.last_used_at).strftime("%Y-%m-%d %H:%M")
                if t.last_used_at
                else "—",
                _("已吊销") if t.revoked else _("有效"),
            )
        console.print(table)

    def revoke(self, prefix: str) -> None:
        prefix = prefix.strip()
        if len(prefix) > 8:
            matches = list(ApiToken.objects.filter(key_hash=ApiToken.digest(prefix)))
        else:
            matches = list(ApiToken.objects.filter(prefix=prefix))
        if not matches:
            raise CommandError(_("没有前缀为 %s 的令牌。") % prefix[:8])
        if len(matches) > 1:
            raise CommandError(
                _("前缀 %(prefix)s 对应 %(n)d 个令牌，请改用完整密钥吊销。")
                % {"prefix": prefix, "n": len(matches)}
            )
        token = matches[0]
        if token.revoked:
            self.stdout.write(_("令牌 %s 早已吊销。") % token.prefix)
            return
        with transaction.atomic():
            before = _state(token)
            token.revoked = True
            token.save(update_fields=["revoked"])
            audit.record("update", token, before, _state(token))
        self.stdout.write(
            _("已吊销令牌 %(prefix)s（%(name)s）。") % {"prefix": token.prefix, "name": token.name}
        )
