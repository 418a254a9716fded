"""The OData query options of SensorThings 1.1 (§9.3): ``$top``, ``$skip``, ``$count``,
``$orderby``, ``$select``, ``$filter`` and ``$expand`` (with options nested in parentheses,
``Observations($top=1;$orderby=phenomenonTime desc)``, and paths, ``Datastreams/Sensor``).

``$filter`` is parsed by odata-query's OData grammar into its AST, then turned into a Django
``Q`` over the entity's model through the entity's map of property paths to ORM paths
(:class:`FilterToQ`), or evaluated in Python for the few entities that are no table
(:func:`matches`). A property outside the map, a bad number or bad syntax is a
:class:`BadQuery` naming the option — a 400, never a 500.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Q
from odata_query import ast
from odata_query.django.django_q import AstToDjangoQVisitor
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

__all__ = ["BadQuery", "FilterToQ", "Options", "matches", "parse_filter", "parse_options"]

#: The largest page a client may ask for; the default page when it asks for none.
MAX_TOP = 10000
DEFAULT_TOP = 100


class BadQuery(ValueError):
    """A query option that cannot be served: ``option`` names it (``$filter``)."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass
class Options:
    """The query options of one collection (top level, or one ``$expand`` item)."""

    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    select: list[str] | None = None
    filter: ast._Node | None = None
    expand: dict[str, Options] = field(default_factory=dict)
    top_given: bool = False
    skiptoken: str | None = None  # server-driven paging: the key after which a page starts
    latest: bool | None = None  # (an $expand item) the newest observation only: worked out once


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses and quotes."""
    out: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == sep and depth == 0 and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth != 0 or quoted:
        raise BadQuery("$expand", f"unbalanced parentheses or quotes in {text!r}")
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


def parse_filter(text: str) -> ast._Node:
    try:
        tree: ast._Node = ODataParser().parse(ODataLexer().tokenize(text))
        return tree
    except ODataException as exc:
        raise BadQuery("$filter", str(exc) or "syntax error") from None
    except Exception as exc:  # the grammar raises plain errors on some inputs
        raise BadQuery("$filter", f"cannot parse {text!r} ({type(exc).__name__})") from None


def _int(option: str, text: str, limit: int | None = None) -> int:
    if not text.strip().isdigit():
        raise BadQuery(option, f"{text!r} is not a whole number ≥ 0")
    value = int(text)
    if limit is not None and value > limit:
        raise BadQuery(option, f"at most {limit}")
    return value


def parse_options(params: Mapping[str, str]) -> Options:
    """Options from query parameters (``$top`` …, or one ``$expand`` item's ``;``-list)."""
    o = Options()
    for key, value in params.items():
        if key == "$top":
            o.top, o.top_given = _int("$top", value, MAX_TOP), True
        elif key == "$skip":
            o.skip = _int("$skip", value)
        elif key == "$count":
            if value not in ("true", "false"):
                raise BadQuery("$count", "true or false")
            o.count = value == "true"
        elif key == "$orderby":
            o.orderby = _orderby(value)
        elif key == "$select":
            o.select = [s.strip() for s in value.split(",") if s.strip()]
        elif key == "$filter":
            o.filter = parse_filter(value)
        elif key == "$expand":
            o.expand = parse_expand(value)
        elif key == "$skiptoken":
            o.skiptoken = value
        elif key.startswith("$") and key not in ("$resultFormat",):
            raise BadQuery(key, "unknown query option")
    return o


def _orderby(text: str) -> list[tuple[str, bool]]:
    out = []
    for part in _split(text, ","):
        words = part.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise BadQuery("$orderby", f"{part!r}: a property, then asc or desc")
        out.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return out


def parse_expand(text: str) -> dict[str, Options]:
    """``A($top=1;$orderby=x desc),B/C`` → {A: options, B: options with expand {C: …}}."""
    out: dict[str, Options] = {}
    for item in _split(text, ","):
        name, _paren, rest = item.partition("(")
        name = name.strip()
        inner: dict[str, str] = {}
        if _paren:
            if not rest.endswith(")"):
                raise BadQuery("$expand", f"{item!r}: options must end with ')'")
            for opt in _split(rest[:-1], ";"):
                key, eq, value = opt.partition("=")
                # ``Datastreams(Observations(...))`` is not OData: a nested expand is
                # ``Datastreams($expand=Observations(...))`` or ``Datastreams/Observations``.
                if not eq or not key.strip().startswith("$") or "(" in key:
                    raise BadQuery(
                        "$expand",
                        f"{opt!r} in {name.strip()!r}: $option=value expected (a nested "
                        f"expand is {name.strip()}($expand=…) or {name.strip()}/…)",
                    )
                inner[key.strip()] = value.strip()
        head, slash, tail = name.partition("/")
        if slash:  # a path: B/C is B expanded with C inside
            nested = out.setdefault(head, Options())
            nested.expand.update(parse_expand(tail + (f"({rest}" if _paren else "")))
            continue
        opts = parse_options(inner)
        if head in out:
            opts.expand = {**out[head].expand, **opts.expand}
        out[head] = opts
    return out


def _path(node: ast._Node) -> str:
    if isinstance(node, ast.Identifier):
        return node.name
    if isinstance(node, ast.Attribute):
        return f"{_path(node.owner)}/{node.attr}"
    raise BadQuery("$filter", f"unsupported expression {type(node).__name__}")


class FilterToQ(AstToDjangoQVisitor):
    """odata-query's Django visitor, reading property paths through the entity's map."""

    def __init__(self, model: Any, fields: Mapping[str, str]) -> None:
        super().__init__(model)
        self.fields = fields

    def _field(self, node: ast._Node) -> F:
        name = _path(node)
        orm = self.fields.get(name)
        if orm is None:
            known = ", ".join(sorted(self.fields))
            raise BadQuery("$filter", f"unknown property {name!r} (known: {known})")
        return F(orm)

    def visit_Identifier(self, node: ast.Identifier) -> F:
        return self._field(node)

    def visit_Attribute(self, node: ast.Attribute) -> F:
        return self._field(node)


def to_q(model: Any, fields: Mapping[str, str], tree: ast._Node) -> Q:
    visitor = FilterToQ(model, fields)
    try:
        q: Q = visitor.visit(tree)
    except BadQuery:
        raise
    except Exception as exc:
        raise BadQuery("$filter", f"cannot apply ({type(exc).__name__}: {exc})") from None
    if visitor.queryset_annotations:
        raise BadQuery("$filter", "functions are not supported here")
    return q


_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _value(node: ast._Node, row: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Identifier | ast.Attribute):
        name = _path(node)
        if name not in row:
            raise BadQuery("$filter", f"unknown property {name!r} (known: {', '.join(row)})")
        return row[name]
    if isinstance(node, ast.Integer):
        return int(node.val)
    if isinstance(node, ast.Float):
        return float(node.val)
    if isinstance(node, ast.String):
        return node.val
    if isinstance(node, ast.Boolean):
        return node.val.lower() == "true"
    if isinstance(node, ast.DateTime):
        return datetime.fromisoformat(node.val.replace("Z", "+00:00"))
    if isinstance(node, ast.Null):
        return None
    raise BadQuery("$filter", f"unsupported expression {type(node).__name__}")


def matches(tree: ast._Node, row: Mapping[str, Any]) -> bool:
    """Evaluate a filter on one in-memory row (entities that are no table)."""
    if isinstance(tree, ast.BoolOp):
        left = matches(tree.left, row)
        return (
            (left and matches(tree.right, row))
            if isinstance(tree.op, ast.And)
            else (left or matches(tree.right, row))
        )
    if isinstance(tree, ast.UnaryOp) and isinstance(tree.op, ast.Not):
        return not matches(tree.operand, row)
    if isinstance(tree, ast.Compare) and type(tree.comparator) in _COMPARE:
        a, b = _value(tree.left, row), _value(tree.right, row)
        try:
            return bool(_COMPARE[type(tree.comparator)](a, b))
        except TypeError:
            return False
    raise BadQuery("$filter", f"unsupported expression {type(tree).__name__}")
