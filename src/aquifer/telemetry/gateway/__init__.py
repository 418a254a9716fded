"""The device gateway: SL 651 and SZY 206 over TCP, group-committed to the readings store.

``aquifer gateway`` runs :class:`Gateway` in one asyncio event loop:

- **One protocol object per connection** (devices keep their TCP connection open for hours;
  :class:`_Connection`, an :class:`asyncio.Protocol`: no task per connection or per frame).
  :class:`FrameSplitter` cuts frames out of the byte stream with the codecs' ``frame_size``;
  bytes that are no frame are kept in the quarantine, never dropped. A connection's frames are
  handled one at a time, in the order they came; what arrives meanwhile waits (reading pauses
  when that passes 64 KiB or two maximum frames, and while a device does not read its
  acknowledgements). The hot path, a report from a device whose verdict is in memory, runs in
  the read callback (:meth:`Gateway._fast_frame`); anything else (quarantine, a verdict that
  needs the database, keep-alives, multi-packet messages) runs :meth:`Gateway.handle_frame` in
  a task. A connection silent for ``IDLE_TIMEOUT_S`` is closed; a frame longer than
  ``MAX_FRAME_BYTES`` is refused.
- **Authentication** through :class:`~aquifer.telemetry.devices.DeviceCache`: the station
  address must be a registered, active device of that protocol, and an SL651 frame's password
  (4 hex digits) must be the device's secret. Unknown station → quarantine
  ``unknown_station`` (a possible illegal well); wrong password, inactive device, other
  protocol → ``auth_failed``; undecodable → ``malformed`` with the byte offset and reason.
  None of them is acknowledged.
- **Group commit**: decoded elements become canonical readings
  (:func:`aquifer.telemetry.mapping.map_values`) and go to one :class:`BatchWriter`, which
  collects the rows of every connection for up to ``BATCH_MAX_MS`` or ``BATCH_MAX_ROWS``,
  calls :func:`aquifer.telemetry.store.ingest` (in the writer process, or a worker thread;
  either way a :class:`~aquifer.telemetry.writer.Upkeep` thread merges the rollups and
  checkpoints the WAL beside the batches, in the writer process or in this one), and only
  when it has returned (committed) calls each frame's callback (or resolves its future:
  :meth:`BatchWriter.submit`, the MQTT subscriber). Only then does the connection send the
  acknowledgement (SL651: the down confirmation of 30H–3AH reports; SZY206: the confirmation
  of C0H/81H self-reports and 02H link checks). A resent frame is stored once (ingest is
  idempotent) and acknowledged again. A crash before the commit loses nothing acknowledged.
  Each frame's bytes as received ride with its rows and are archived
  (:class:`~aquifer.telemetry.models.RawFrame`) in the same commit
  (docs/protocols.md, "Raw-frame archive").
- **Drain on shutdown** (:meth:`Gateway.stop`, SIGTERM/SIGINT in the command): stop accepting,
  let frames in flight commit and be acknowledged, close the connections, flush the writer.

Every blocking call (ingest, quarantine, device lookups, hash checks) goes through
``run_db`` (default :func:`asyncio.to_thread`); tests inject one that runs on their own
database connection. Settings: ``settings.AQUIFER["GATEWAY"]``, see :class:`GatewayConfig`.

The package: :mod:`~.config` (:class:`GatewayConfig`), :mod:`~.framing`
(:class:`FrameSplitter`), :mod:`~.batching` (:class:`BatchWriter`, the group commit),
:mod:`~.connection` (the protocol object of one connection) and :mod:`~.server`
(:class:`Gateway`). Everything public is imported from here.
"""

from __future__ import annotations

from aquifer.telemetry.gateway.batching import BatchWriter, RunDb
from aquifer.telemetry.gateway.batching import Waiter as Waiter
from aquifer.telemetry.gateway.config import SETTINGS_KEYS as SETTINGS_KEYS
from aquifer.telemetry.gateway.config import GatewayConfig
from aquifer.telemetry.gateway.connection import SL651_REPORTS as SL651_REPORTS
from aquifer.telemetry.gateway.connection import SZY206_CONFIRMED as SZY206_CONFIRMED
from aquifer.telemetry.gateway.connection import SZY206_VALUES as SZY206_VALUES
from aquifer.telemetry.gateway.framing import FrameSplitter
from aquifer.telemetry.gateway.framing import Piece as Piece
from aquifer.telemetry.gateway.server import Gateway
from aquifer.telemetry.gateway.server import report_device_status as report_device_status

__all__ = [
    "BatchWriter",
    "FrameSplitter",
    "Gateway",
    "GatewayConfig",
    "RunDb",
]
