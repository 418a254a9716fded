"""System checks of the deployment (``aquifer check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.translation import gettext as _

from aquifer.core.addresses import parse_networks
from aquifer.core.pdf import cjk_fonts

__all__ = [
    "cjk_font_check",
    "development_key_in_use",
    "secret_key_check",
    "trusted_proxies_check",
]


def development_key_in_use() -> bool:
    """True when the published development key would sign sessions in production (DEBUG
    off and ``AQUIFER_SECRET_KEY`` unset)."""
    development = getattr(settings, "DEVELOPMENT_SECRET_KEY", None)
    return not settings.DEBUG and bool(development) and development == settings.SECRET_KEY


def secret_key_message() -> str:
    return _(
        "未设置 AQUIFER_SECRET_KEY：生产环境不能使用公开的开发密钥（任何人都能用它伪造会话）。"
        "请设置环境变量 AQUIFER_SECRET_KEY 为至少 50 个字符的随机串，例如 "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"` 的输出。'
    )


@checks.register(checks.Tags.security, deploy=True)
def secret_key_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if development_key_in_use():
        return [checks.Error(secret_key_message(), id="aquifer.E001")]
    return []


@checks.register(checks.Tags.security)
def trusted_proxies_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """AQUIFER_TRUSTED_PROXIES lists addresses or networks only (a typo would otherwise
    leave every visitor counted as the proxy)."""
    try:
        parse_networks(str(settings.AQUIFER.get("TRUSTED_PROXIES", "")))
    except ValueError as e:
        return [
            checks.Error(
                _("AQUIFER_TRUSTED_PROXIES 中的“%(entry)s”不是 IP 地址或网段。") % {"entry": e},
                id="aquifer.E002",
            )
        ]
    return []


@checks.register(deploy=True)
def cjk_font_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PDFs (reports, enforcement documents) need a Chinese font on the server."""
    if cjk_fonts():
        return []
    return [
        checks.Warning(
            _("服务器没有中文字体：生成的 PDF 中汉字将无法显示。请安装 fonts-noto-cjk。"),
            id="aquifer.W010",
        )
    ]
