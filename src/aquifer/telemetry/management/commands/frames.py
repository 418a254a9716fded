"""``aquifer frames decode HEX [--protocol sl651|szy206]``: a field engineer's frame decoder.

Prints the decoded frame as JSON (stable keys: ``protocol``, ``function``, ``function_name``,
``station``, ``send_time``, ``observation_time``, ``elements``, ``checksum_ok``; the rest are
protocol details). The protocol is recognised from the leading bytes unless ``--protocol``
names it. HEX may contain spaces and either case; ``-`` reads it from standard input. A frame
that cannot be decoded gives ``error at byte N: reason`` on stderr and exit status 2.

``aquifer frames ack HEX`` prints the centre's confirmation of an up frame, as hex.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from aquifer.telemetry.protocols import FrameError, decode, parse_hex, sl651, szy206

#: Exit status for a frame that cannot be decoded (and for input that is not hex).
EXIT_BAD_FRAME = 2


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]
        return _(
            "解析遥测报文（SL651 HEX/ASCII、SZY206），以 JSON 输出；"
            "或生成中心站对上行报文的确认报文。"
        )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="decode|ack")
        for name, what in (
            ("decode", _("解析一帧报文，输出 JSON (decode one frame, print JSON)")),
            ("ack", _("输出中心站对该上行报文的确认报文 (print the centre's confirmation)")),
        ):
            p = sub.add_parser(name, help=what, description=what)
            p.add_argument(
                "hex",
                metavar="HEX",
                nargs="+",
                help=_("报文的十六进制，可含空格，大小写均可；- 表示从标准输入读取"),
            )
            p.add_argument(
                "--protocol",
                choices=["sl651", "szy206"],
                type=str.lower,
                help=_("规约（默认：按报文起始字节识别：7E7E、01 为 SL651，68 为 SZY206）"),
            )
            p.add_argument(
                "--no-verify",
                action="store_true",
                help=_("校验码错误时仍然解析（输出 checksum_ok: false）"),
            )
            if name == "decode":
                p.add_argument("--indent", type=int, default=2, help=_("JSON 缩进（默认 2）"))

    def handle(self, *args: Any, **options: Any) -> None:
        text = " ".join(options["hex"])
        if text.strip() == "-":
            text = sys.stdin.read()
        try:
            data = parse_hex(text)
        except ValueError as exc:
            raise CommandError(
                _("不是十六进制报文 (not hex): %s") % exc, returncode=EXIT_BAD_FRAME
            ) from None
        if not data:
            raise CommandError(_("报文为空 (empty frame)"), returncode=EXIT_BAD_FRAME)
        try:
            frame = decode(data, options["protocol"], verify=not options["no_verify"])
        except FrameError as exc:
            raise CommandError(str(exc), returncode=EXIT_BAD_FRAME) from None
        if options["action"] == "ack":
            self.stdout.write(self._ack(frame).hex().upper())
            return
        self.stdout.write(
            json.dumps(frame.to_dict(), ensure_ascii=False, indent=options["indent"] or None)
        )

    def _ack(self, frame: Any) -> bytes:
        try:
            if isinstance(frame, sl651.SL651Frame):
                return sl651.acknowledge(frame)
            return szy206.confirm(frame)
        except ValueError as exc:
            raise CommandError(
                _("无需确认 (no confirmation for this frame): %s") % exc,
                returncode=EXIT_BAD_FRAME,
            ) from None
