"""Chinese by default, English on request, and an English catalogue that covers every string.

The msgids are Chinese. The English catalogue (``locale/en/LC_MESSAGES/django.po``) must
translate every msgid found in the Python sources and the templates, and the compiled
``django.mo`` beside it must say what the ``.po`` says (a fresh machine has no gettext to
compile it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

import aquifer

PACKAGE = Path(aquifer.__file__).resolve().parent
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


# --- The switch -----------------------------------------------------------------------------------


def nav(response: Any) -> str:
    html = response.content.decode()
    return re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)


def test_chinese_is_the_default(world: Any) -> None:
    r = world.client("bureau").get("/")
    assert '<html lang="zh-hans">' in r.content.decode()
    text = nav(r)
    for word in (
        "地图",
        "取水井",
        "取用水户",
        "监测设备",
        "监测井",
        "分区",
        "乡镇",
        "审计",
        "导入",
    ):
        assert f">{word}<" in text, word
    assert "Wells" not in text


def test_english_switch(world: Any) -> None:
    c = world.client("bureau")
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/wells/"})
    assert r.status_code == 302 and r["Location"] == "/wells/"
    r = c.get("/wells/")
    html = r.content.decode()
    assert '<html lang="en">' in html
    text = nav(r)
    for word in (
        "Map",
        "Wells",
        "Water users",
        "Devices",
        "Monitoring wells",
        "Zones",
        "Townships",
        "Audit",
        "Import",
    ):
        assert f">{word}<" in text, word
    assert "取水井" not in text
    # Page furniture, column headers from the models, choice labels and filters.
    assert "<h1>Wells</h1>" in html
    assert ">Depth (m)<" in html and ">Active<" in html and ">Clear filters<" in html
    # And back.
    c.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert ">取水井<" in nav(c.get("/"))


def test_english_detail_form_and_errors(world: Any) -> None:
    c = world.client("bureau")
    c.post("/i18n/setlang/", {"language": "en"})
    html = c.get(f"/wells/{world.well_a.pk}/").content.decode()
    assert "derived from the location" in html and ">History<" in html
    r = c.post(
        "/wells/new/",
        {
            "code": "W-A-1",
            "x": 116.4,
            "y": 39.9,
            "crs": 4326,
            "depth_m": "10",
            "layer": "shallow",
            "purpose": "domestic",
            "status": "active",
        },
    )
    html = r.content.decode()
    assert "Well with this Code already exists." in html
    assert "Coordinate system" in html and "CGCS2000 longitude/latitude" in html


def test_english_map_text(world: Any) -> None:
    c = world.client("anonymous")
    c.post("/i18n/setlang/", {"language": "en"})
    html = c.get("/map/").content.decode()
    assert "Township boundaries are approximate" in html
    assert "Prohibited" in html and '"details": "Details"' in html


# --- The catalogue --------------------------------------------------------------------------------


def _unquote(s: str) -> str:
    return ast.literal_eval(s)


def parse_po(text: str) -> list[dict[str, Any]]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list), flags."""
    entries: list[dict[str, Any]] = []
    for block in text.split("\n\n"):
        entry: dict[str, Any] = {
            "flags": set(),
            "msgctxt": None,
            "msgid_plural": None,
            "msgstr": [],
            "obsolete": False,
        }
        key = None
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
                continue
            if line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if m:
                key, value = m.group(1), _unquote(m.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += _unquote(line)
                else:
                    entry[key] += _unquote(line)
        if "msgid" in entry:
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    return [e for e in parse_po(PO.read_text(encoding="utf-8")) if e["msgid"]]


_GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
_PGETTEXT = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}


def python_msgids() -> set[tuple[str | None, str]]:
    """(context, msgid) of every gettext call with a literal in the package's Python code."""
    found: set[tuple[str | None, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # gettext imported under another name (``gettext_lazy as _l``) is gettext all the same
        aliases = {
            a.asname: a.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
            for a in node.names
            if a.asname
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            name = aliases.get(name, name)
            args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
            if name in _GETTEXT and args and isinstance(args[0], str):
                found.add((None, args[0]))
            elif name in _PGETTEXT and len(args) > 1 and isinstance(args[1], str):
                found.add((args[0], args[1]))
    return found


_TEMPLATE_CALL = re.compile(
    r"\b(?:(pgettext)\(u?('(?:[^'\\]|\\.)*'),\s*u?('(?:[^'\\]|\\.)*')"
    r"|(?:gettext|_)\(u?('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))"
)


def template_msgids() -> set[tuple[str | None, str]]:
    found: set[tuple[str | None, str]] = set()
    for path in PACKAGE.rglob("templates/**/*.html"):
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        for m in _TEMPLATE_CALL.finditer(code):
            if m.group(1):
                found.add((_unquote(m.group(2)), _unquote(m.group(3))))
            else:
                found.add((None, _unquote(m.group(4))))
    return found


def test_extraction_finds_strings() -> None:
    """The checks below mean something only if the extraction works."""
    assert (None, "取水井") in python_msgids()
    assert ("plural", "取水井") in python_msgids()
    assert (None, "修改记录") in template_msgids()
    assert ("plural", "取水井") in template_msgids()
    assert (None, "第 %(page)s / %(pages)s 页") in template_msgids()
    assert (None, "系统") in template_msgids()


def test_every_msgid_is_in_the_english_catalogue(catalogue: list[dict[str, Any]]) -> None:
    have = {(e["msgctxt"], e["msgid"]) for e in catalogue if not e["obsolete"]}
    missing = sorted((python_msgids() | template_msgids()) - have, key=str)
    assert not missing, f"run makemessages -l en and translate: {missing}"


def test_every_entry_is_translated(catalogue: list[dict[str, Any]]) -> None:
    live = [e for e in catalogue if not e["obsolete"]]
    assert len(live) > 300
    untranslated = [e["msgid"] for e in live if not all(e["msgstr"]) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in live if "fuzzy" in e["flags"]]
    assert not untranslated
    assert not fuzzy
    # English, not Chinese left in place (Chinese quoted as an example is fine: “在用”).
    cjk = re.compile(r"[\u4e00-\u9fff]")
    quoted = re.compile(r"“[^”]*”")
    still_chinese = [
        e["msgid"] for e in live if any(cjk.search(quoted.sub("", s)) for s in e["msgstr"])
    ]
    assert not still_chinese


def test_placeholders_survive_translation(catalogue: list[dict[str, Any]]) -> None:
    placeholder = re.compile(r"%(?:\(\w+\))?[-#0 +]?\d*(?:\.\d+)?[sdfr%]")
    wrong = [
        e["msgid"]
        for e in catalogue
        if not e["obsolete"]
        and "python-format" in e["flags"]
        and any(
            sorted(placeholder.findall(s)) != sorted(placeholder.findall(e["msgid"]))
            for s in e["msgstr"]
        )
    ]
    assert not wrong


def test_compiled_catalogue_matches_the_po(catalogue: list[dict[str, Any]]) -> None:
    assert MO.exists(), "compile with: django-admin compilemessages"
    with translation.override("en"):
        stale = []
        for e in catalogue:
            if e["obsolete"] or e["msgid_plural"] is not None:
                continue
            if e["msgctxt"] is not None:
                got = translation.pgettext(e["msgctxt"], e["msgid"])
            else:
                got = translation.gettext(e["msgid"])
            if got != e["msgstr"][0]:
                stale.append(e["msgid"])
    assert not stale, "django.mo is out of date: run compilemessages"
