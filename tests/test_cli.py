"""The ``aquifer`` command: short help, delegation to Django, API tokens, import exit codes.

Most tests call the management commands in-process (``call_command``); two run the installed
``aquifer`` script in a subprocess, on an on-disk SQLite database, as an operator would.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook, load_workbook

from aquifer import cli
from aquifer.core.models import ApiToken, AuditEntry
from aquifer.registry.models import Well

AQUIFER = Path(sys.executable).parent / "aquifer"
OWN_COMMANDS = [
    "demo",
    "serve",
    "template",
    "import",
    "token",
    "frames",
    "gateway",
    "simulate",
    "trend",
    "quality",
    "market",
    "worker",
    "audit",
    "check",
    "migrate",
    "createsuperuser",
]


def me(key: str) -> dict[str, Any]:
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    return response.json()


def refused(key: str) -> bool:
    """A key that does not authenticate gets 401, not the public's answer."""
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    return response.status_code == 401 and "Bearer" in response["WWW-Authenticate"]


def wells_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "X(经度/东坐标)", "Y(纬度/北坐标)", "井深(m)", "含水层", "用途"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


# --- aquifer (no command) ---------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["aquifer"], ["aquifer", "--help"]])
def test_short_help_lists_aquifers_own_commands(argv, capsys):
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert listed == OWN_COMMANDS
    assert "aquifer help" in out


def test_main_delegates_to_django_with_aquifers_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    target = tmp_path / "users.xlsx"
    assert cli.main(["aquifer", "template", "users", "-o", str(target)]) == 0
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "aquifer.config.settings"
    assert load_workbook(target).worksheets[0]["A1"].value == "名称"


# --- aquifer token ----------------------------------------------------------------------------


def test_token_create_authenticates_list_shows_prefix_revoke_disables(world):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "create", "officer_a", "--name", "gateway", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert key.startswith("aq_") and len(key) > 30 and "\n" not in key
    token = ApiToken.objects.get(user=world.accounts["township"])
    assert token.name == "gateway" and token.key_hash != key and key not in err.getvalue()
    assert token.prefix in err.getvalue()

    assert me(key) == {
        "authenticated": True,
        "username": "officer_a",
        "role": "township",
        "township_id": world.township_a.pk,
        "water_user_id": None,
    }
    assert refused("aq_not-a-real-key")

    listing = io.StringIO()
    call_command("token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and "gateway" in listing.getvalue()
    assert key not in listing.getvalue()

    call_command("token", "revoke", token.prefix, stdout=io.StringIO())
    token.refresh_from_db()
    assert token.revoked
    assert refused(key)
    listing = io.StringIO()
    call_command("token", "list", "--user", "officer_a", stdout=listing)
    assert "已吊销" in listing.getvalue()

    actions = AuditEntry.objects.filter(object_type="core.apitoken", object_id=str(token.pk))
    assert sorted(actions.values_list("action", flat=True)) == ["create", "update"]
    assert all(key not in str(e.after) for e in actions)


def test_token_default_name_and_revoke_by_full_key(world):
    out = io.StringIO()
    call_command("token", "create", "bureau", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert ApiToken.objects.get().name.startswith("cli-")
    call_command("token", "revoke", key, stdout=io.StringIO())
    assert ApiToken.objects.get().revoked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "nobody"], "没有用户名为 nobody 的账号"),
        (["list", "--user", "nobody"], "没有用户名为 nobody 的账号"),
        (["revoke", "aq_zzzzz"], "没有前缀为 aq_zzzzz 的令牌"),
    ],
)
def test_token_errors_are_one_line(world, args, message):
    with pytest.raises(CommandError, match=message) as info:
        call_command("token", *args)
    assert "\n" not in str(info.value)
    assert not ApiToken.objects.exists()


def test_token_for_inactive_account_is_refused(world):
    user = world.accounts["inspector"]
    user.is_active = False
    user.save()
    with pytest.raises(CommandError, match="已停用"):
        call_command("token", "create", "inspector")
    assert not ApiToken.objects.exists()


# --- aquifer import: exit codes and messages --------------------------------------------------


def test_import_command_reports_every_fault_on_stderr(world, tmp_path):
    path = wells_xlsx(
        tmp_path / "w.xlsx",
        [
            ["C-1", 112.42, 35.49, 100, "浅层", "生活"],
            ["C-2", 116.4, 39.9, 100, "浅层", "生活"],
            ["C-1", 112.42, 35.49, "深", "浅层", "生活"],
        ],
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="3 处错误，未导入任何记录") as info:
        call_command("import", str(path), stdout=out, stderr=err)
    assert info.value.returncode == 1
    report = err.getvalue()
    assert "3 行中有 3 处错误" in report
    for needle in ("不在县域内", "“深”不是数字", "与第 2 行重复", "X(经度/东坐标)", "井深(m)"):
        assert needle in report
    assert out.getvalue() == ""
    assert not Well.objects.filter(code__startswith="C-").exists()


def test_import_command_dry_run_then_import(world, tmp_path):
    path = wells_xlsx(tmp_path / "w.xlsx", [["C-1", 112.42, 35.49, 100, "浅层", "生活"]])
    out = io.StringIO()
    call_command("import", str(path), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "校验通过：1 行取水井" in out.getvalue()
    assert not Well.objects.filter(code="C-1").exists()
    out = io.StringIO()
    call_command("import", str(path), "--kind", "wells", stdout=out, stderr=io.StringIO())
    assert "已导入 1 条取水井记录" in out.getvalue()
    assert AuditEntry.objects.get(source="import").username == ""  # the system, no account


def test_import_as_unknown_user_is_one_line_error(world, tmp_path):
    path = wells_xlsx(tmp_path / "w.xlsx", [["C-1", 112.42, 35.49, 100, "浅层", "生活"]])
    with pytest.raises(CommandError, match="没有用户名为 ghost 的账号"):
        call_command("import", str(path), as_user="ghost")
    assert not Well.objects.filter(code="C-1").exists()


# --- The installed script, in a subprocess ----------------------------------------------------


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AQUIFER), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def script_env(tmp_path: Path) -> dict[str, str]:
    assert AQUIFER.exists(), f"{AQUIFER} is not installed (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    env["AQUIFER_DATA_DIR"] = str(tmp_path / "var")
    return env


@pytest.mark.slow
def test_script_help_and_unreadable_file(script_env, tmp_path):
    done = run(env=script_env, cwd=tmp_path)
    assert done.returncode == 0
    assert "import FILE.xlsx" in done.stdout and "token create" in done.stdout

    done = run("import", str(tmp_path / "missing.xlsx"), env=script_env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"CommandError: 文件不存在：{tmp_path / 'missing.xlsx'}"
    ]


@pytest.mark.slow
def test_script_migrate_template_import(script_env, tmp_path):
    done = run("migrate", "-v", "0", env=script_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    done = run("template", "wells", "-o", "t.xlsx", env=script_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    wb = load_workbook(tmp_path / "t.xlsx")
    ws = wb.worksheets[0]
    ws.append(["S-1", "", 112.42, 35.49, None, 100, "浅层", "生活", "在用"])  # row 3
    ws.append(["S-2", "", 116.4, 39.9, None, 100, "浅层", "生活", "在用"])  # row 4
    wb.save(tmp_path / "bad.xlsx")

    done = run("import", "bad.xlsx", env=script_env, cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "不在县域内" in done.stderr and "X(经度/东坐标)" in done.stderr
    assert done.stderr.rstrip().endswith("CommandError: 1 处错误，未导入任何记录。")

    ws.delete_rows(4)
    wb.save(tmp_path / "good.xlsx")
    done = run("import", "good.xlsx", env=script_env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "已导入 1 条取水井记录。"
    done = run("import", "good.xlsx", env=script_env, cwd=tmp_path)
    assert done.returncode == 1 and "已存在" in done.stderr


@pytest.mark.slow
def test_demo_serves_first_and_fills_the_county_behind_it(script_env, tmp_path):
    """``aquifer demo`` as a visitor runs it: the server answers once the schema is there,
    the registry, the history and every app's demo are built behind it (a banner says how far),
    and the county is whole at the end."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script_env["AQUIFER_COLLECTSTATIC"] = "0"
    args = ["demo", "--wells", "30", "--history-days", "3", "--live-devices", "0"]
    proc = subprocess.Popen(
        [str(AQUIFER), *args, "--port", str(port)],
        env=script_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 400
        first_page = None
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if first_page is None and "服务已可访问" in line:
                for _ in range(100):
                    try:
                        url = f"http://127.0.0.1:{port}/portal/"
                        with urllib.request.urlopen(url, timeout=5) as r:
                            first_page = r.status
                        break
                    except OSError:
                        time.sleep(0.2)
            if "演示县已完整" in line:
                break
        out = "".join(lines)
        assert first_page == 200, out[-3000:]
        # The registry is built behind the server (not before it), then everything else.
        assert out.index("服务已可访问") < out.index("演示县：30 眼取水井")
        assert "演示县已完整" in out, out[-3000:]
    finally:
        proc.terminate()
        proc.wait(30)
    done = run(
        "shell", "-c",
        "from aquifer.registry.models import Well; from aquifer.permits.models import Permit;"
        "print(Well.objects.count(), Permit.objects.exists())",
        env=script_env, cwd=tmp_path,
    )  # fmt: skip
    assert done.stdout.split()[-2:] == ["30", "True"], done.stderr
