"""The demo accounts: one login per role, all with the documented demo password."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from aquifer.core.models import User
from aquifer.core.roles import Role
from aquifer.registry.demo.county import BEILIU, FENGCHENG

__all__ = ["ACCOUNTS", "DEMO_PASSWORD", "DemoAccount", "build_accounts"]

#: The password of every demo account (printed by ``aquifer demo``; never use in production).
DEMO_PASSWORD = "aquifer-demo"


@dataclass(frozen=True)
class DemoAccount:
    """One demo login: its role, the township or water user it belongs to, what it sees."""

    username: str
    role: Role
    display_name: str
    sees: str
    township_code: str | None = None
    superuser: bool = False
    water_user: bool = False


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", Role.BUREAU, "系统管理员", "全县全部数据；管理后台", superuser=True),
    DemoAccount("bureau", Role.BUREAU, "县水务局 演示", "全县全部数据"),
    DemoAccount(
        "beiliu",
        Role.TOWNSHIP,
        "北留镇 演示",
        "北留镇的井、用户、设备（皇城相府）",
        township_code=BEILIU,
    ),
    DemoAccount(
        "fengcheng",
        Role.TOWNSHIP,
        "凤城镇 演示",
        "凤城镇的记录（2024年关井压采）",
        township_code=FENGCHENG,
    ),
    DemoAccount(
        "wateruser",
        Role.WATER_USER,
        "取用水户 演示",
        "本单位的取水井和计量设施",
        water_user=True,
    ),
    DemoAccount("inspector", Role.INSPECTOR, "执法人员 演示", "全县只读；检查与案件"),
    DemoAccount("public", Role.PUBLIC, "公众 演示", "公众门户：分区、乡镇、地图"),
)


def build_accounts(towns: dict[str, Any], users: list[Any], wells: list[Any]) -> Any:
    """Create or update the demo accounts (their password set again); return the water user
    the ``wateruser`` account belongs to: the organisation owning the most demo wells."""
    owner_counts = Counter(w.owner_id for w in wells if w.owner_id is not None)
    orgs = {u.pk: u for u in users if u.uscc}
    account_user = max(
        (u for u in orgs.values() if owner_counts[u.pk]),
        key=lambda u: (owner_counts[u.pk], u.name),
    )
    for acc in ACCOUNTS:
        user, _created = User.objects.update_or_create(
            username=acc.username,
            defaults={
                "role": str(acc.role),
                "first_name": acc.display_name,
                "is_staff": acc.superuser,
                "is_superuser": acc.superuser,
                "is_active": True,
                "township_id": towns[acc.township_code].pk if acc.township_code else None,
                "water_user_id": account_user.pk if acc.water_user else None,
            },
        )
        user.full_clean(exclude=["password"])
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return account_user
