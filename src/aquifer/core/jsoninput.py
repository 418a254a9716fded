"""Reading a JSON request body that cannot hurt the server, with errors that say where.

:func:`load_json` is ``json.loads`` for untrusted bodies. It refuses, with a
:class:`BodyRejected` naming the place:

- text that is not JSON, or not UTF-8 (400, with line, column and byte);
- nesting deeper than :data:`MAX_DEPTH` (400: the body, not a field, is wrong; a deep body
  would otherwise exhaust the recursion of the parser or of validation);
- ``NaN``, ``Infinity`` and numbers too large for a double (``1e400``) (422, the field);
- integers outside the signed 64-bit range the databases store (422, the field);
- the NUL character in any string or key (422, the field; PostgreSQL cannot store it).

Fields are named by their path, ``readings.3.value``, like the API's validation errors.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.utils.translation import gettext as _

__all__ = ["INT64_MAX", "INT64_MIN", "MAX_DEPTH", "BodyRejected", "load_json", "text_problem"]

#: The deepest nesting of arrays and objects a body may have.
MAX_DEPTH = 64
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class BodyRejected(ValueError):
    """A body that is refused: ``status`` 400 (the body as a whole) or 422 (``field``)."""

    def __init__(
        self, status: int, detail: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"detail": self.detail}
        if self.errors:
            out["errors"] = self.errors
        return out


class _NonFinite:
    def __init__(self, token: str) -> None:
        self.token = token


def text_problem(value: str) -> str | None:
    """Why a text value cannot be stored, or ``None``."""
    if "\x00" in value:
        return _("含有 NUL 字符（\\u0000），不能保存。")
    return None


def load_json(raw: bytes | str) -> Any:
    """The parsed body; raises :class:`BodyRejected` (see the module's docstring)."""
    try:
        data = json.loads(raw, parse_constant=_NonFinite)
    except json.JSONDecodeError as err:
        where = _("第 %(line)d 行第 %(col)d 列（字节 %(pos)d）") % {
            "line": err.lineno,
            "col": err.colno,
            "pos": err.pos,
        }
        raise BodyRejected(
            400, _("请求体不是合法的 JSON：%(where)s：%(msg)s") % {"where": where, "msg": err.msg}
        ) from None
    except UnicodeDecodeError as err:
        raise BodyRejected(
            400,
            _("请求体不是合法的 JSON：%(where)s：%(msg)s")
            % {"where": _("字节 %d") % err.start, "msg": err.reason},
        ) from None
    except RecursionError:
        raise BodyRejected(400, _depth_message()) from None
    except ValueError as err:  # an integer of more than 4300 digits
        raise BodyRejected(
            400, _("请求体不是合法的 JSON：%(where)s：%(msg)s") % {"where": "", "msg": err}
        ) from None
    _check(data)
    return data


def _depth_message() -> str:
    return _("请求体嵌套过深：数组与对象至多嵌套 %d 层。") % MAX_DEPTH


def _check(data: Any) -> None:
    errors: list[dict[str, str]] = []

    def error(path: tuple[str, ...], message: str) -> None:
        errors.append({"field": ".".join(path) or "__all__", "message": message})

    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:  # depth first, in the order of the document
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise BodyRejected(400, _depth_message())
        if isinstance(value, dict):
            for key in value:
                problem = text_problem(key)
                if problem:
                    error(path, problem)
            stack.extend((value[key], (*path, key)) for key in reversed(value))
        elif isinstance(value, list):
            stack.extend((value[i], (*path, str(i))) for i in reversed(range(len(value))))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                error(path, problem)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                message = _("整数超出范围：应在 %(min)d 与 %(max)d 之间。")
                error(path, message % {"min": INT64_MIN, "max": INT64_MAX})
        elif isinstance(value, _NonFinite) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            error(path, _("应为有限的数（不接受 NaN、Infinity 或溢出的数）。"))
    if errors:
        raise BodyRejected(422, _("请求数据有误。"), errors)
