"""``aquifer forward``: send the outbox to the upstream platforms until stopped (SIGTERM or
Ctrl-C stop it after the frame in hand)."""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from aquifer.telemetry.forwarding.forwarder import Forwarder


class Command(BaseCommand):
    help = "Forward selected devices' frames to the upstream platforms (docs/open-data.md)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        forwarder = Forwarder()
        if options["once"]:
            self.stdout.write(f"forwarded {forwarder.step()} frames")
            forwarder.close()
            return
        signal.signal(signal.SIGTERM, lambda *_: forwarder.stop.set())
        self.stdout.write("forwarder ready", ending="\n")
        self.stdout.flush()
        try:
            forwarder.run()
        except KeyboardInterrupt:
            forwarder.close()
