"""``aquifer market clear ORDERS.csv``: clear a sealed-bid double auction from a file.

ORDERS.csv has columns ``order_id``, ``side`` (buy|sell), ``volume_m3`` (a whole number > 0)
and ``price`` (yuan/m³, >= 0); an optional ``time`` column orders priority among equal prices
(else the row order does). Prints JSON: ``clearing_price`` (null when nothing trades),
``cleared_volume_m3`` and ``fills`` (order_id → filled m³, orders with a fill only). A bad row
gives one line naming the row and the column, and exit status 1. No database is used.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from aquifer.core.csvinput import read_rows, row_error
from aquifer.rights.clearing import Order, Side, clear

COLUMNS = ("order_id", "side", "volume_m3", "price")


def read_orders(path: str) -> list[Order]:
    """The orders of a CSV file; CommandError naming the row and column on the first bad one."""
    orders: list[Order] = []
    seen: dict[str, int] = {}
    for line, row in read_rows(path, COLUMNS):
        if None in row:
            raise row_error(line, "-", _("列数多于表头"))
        cells = {k: (v or "").strip() for k, v in row.items()}
        order_id = cells["order_id"]
        if not order_id:
            raise row_error(line, "order_id", _("订单编号为空"))
        if order_id in seen:
            raise row_error(
                line, "order_id", _("订单编号与第 %(row)d 行重复") % {"row": seen[order_id]}
            )
        seen[order_id] = line
        side = cells["side"].lower()
        if side not in ("buy", "sell"):
            raise row_error(line, "side", _("应为 buy 或 sell"))
        try:
            volume_d = Decimal(cells["volume_m3"])
            if not volume_d.is_finite() or volume_d != volume_d.to_integral_value():
                raise InvalidOperation
            volume = int(volume_d)
        except InvalidOperation:
            raise row_error(line, "volume_m3", _("应为整数立方米")) from None
        if volume <= 0:
            raise row_error(line, "volume_m3", _("应大于 0"))
        try:
            price = Decimal(cells["price"])
            if not price.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise row_error(line, "price", _("不是数字")) from None
        if price < 0:
            raise row_error(line, "price", _("不能为负数"))
        time = float(line)
        if cells.get("time"):
            try:
                time = float(cells["time"])
            except ValueError:
                raise row_error(line, "time", _("不是数字")) from None
        orders.append(Order(order_id, Side(side), volume, price, time))
    return orders


def clearing_json(orders: list[Order]) -> dict[str, Any]:
    result = clear(orders)
    return {
        "clearing_price": None if result.clearing_price is None else float(result.clearing_price),
        "cleared_volume_m3": result.cleared_volume,
        "fills": {
            o.order_id: result.fills[o.order_id] for o in orders if o.order_id in result.fills
        },
    }


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _("水权交易：统一价格密封双向拍卖出清（试点模式），以 JSON 输出。")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="clear")
        what = _("对订单文件做统一价格双向拍卖出清 (clear a double auction)")
        p = sub.add_parser("clear", help=what, description=what)
        p.add_argument(
            "orders",
            metavar="ORDERS.csv",
            help=_("订单文件（列 order_id、side、volume_m3、price，可选 time）"),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        orders = read_orders(options["orders"])
        self.stdout.write(json.dumps(clearing_json(orders), ensure_ascii=False, indent=2))
