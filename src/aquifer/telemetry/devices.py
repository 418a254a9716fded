"""Who a device is: an in-memory cache of the registered devices, and their authentication.

The gateway authenticates every frame (SL651: station address and password; MQTT and HTTP:
client id and token). Asking the database each time would cost a query per frame, and checking
a secret against its PBKDF2 hash costs about 10 ms; so :class:`DeviceCache` keeps

- every registered device as a :class:`DeviceEntry` (station → id, protocol, secret hash,
  active), loaded in one query and reloaded when older than ``max_age`` seconds (the gateway
  also reloads it in the background), and looked up in the database on a miss (a device
  registered a moment ago), with a negative entry for ``miss_age`` seconds so that an unknown
  station sending every second does not send a query every second;
- the result of each (secret hash, secret) check, in a bounded LRU. Keyed by the hash, so a
  new secret (``Device.set_secret``) is checked afresh, and a changed or deactivated device is
  seen at the next reload.

:meth:`DeviceCache.authenticate_cached` answers from memory only (for the event loop; ``None``
when it would need the database or a hash); :meth:`DeviceCache.authenticate` may block (run it
in a worker thread). Both return an :class:`AuthResult`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aquifer.registry.models import Device

__all__ = [
    "AuthResult",
    "DeviceCache",
    "DeviceEntry",
    "default_cache",
    "load_devices",
]


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    """A registered device as the gateway needs it."""

    id: int
    station: str
    protocol: str
    secret_hash: str
    active: bool


@dataclass(frozen=True, slots=True)
class AuthResult:
    """The outcome of an authentication: the device, or the quarantine kind and reason."""

    device: DeviceEntry | None
    kind: str = ""  # "" when authenticated; else "unknown_station" or "auth_failed"
    reason: str = ""
    #: "" (authenticated), "unknown", "protocol", "inactive", "no_secret" or "secret".
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.device is not None and not self.kind


Loader = Callable[[Iterable[str] | None], list[DeviceEntry]]


def load_devices(stations: Iterable[str] | None = None) -> list[DeviceEntry]:
    """Devices from the database: all of them, or those with the given station addresses."""

    qs = Device.objects.all()
    if stations is not None:
        qs = qs.filter(station_address__in=list(stations))
    return [
        DeviceEntry(pk, station, protocol, secret_hash or "", active)
        for pk, station, protocol, secret_hash, active in qs.values_list(
            "pk", "station_address", "protocol", "secret_hash", "active"
        )
    ]


def _check(secret: str, secret_hash: str) -> bool:
    from django.contrib.auth.hashers import check_password

    return bool(secret_hash) and check_password(secret, secret_hash)


class DeviceCache:
    """Registered devices and secret verifications, in memory (thread-safe).

    Parameters
    ----------
    max_age
        Seconds after which the whole table is reloaded on the next lookup.
    miss_age
        Seconds an unknown station is remembered as unknown.
    max_verified
        Size of the LRU of (secret hash, secret) verifications.
    loader, checker, clock
        The database query, the hash check and the clock (injectable for tests).
    """

    def __init__(
        self,
        *,
        max_age: float = 60.0,
        miss_age: float = 30.0,
        max_verified: int = 100_000,
        loader: Loader = load_devices,
        checker: Callable[[str, str], bool] = _check,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.miss_age = miss_age
        self.max_verified = max_verified
        self._loader = loader
        self._checker = checker
        self._clock = clock
        self._lock = threading.Lock()
        self._devices: dict[str, DeviceEntry] = {}
        self._misses: dict[str, float] = {}
        self._loaded_at: float | None = None
        self._verified: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self.stats = {"reloads": 0, "miss_queries": 0, "hash_checks": 0}
        #: Changes whenever an entry may have changed (reload, clear, a looked-up device):
        #: a caller that kept a verdict (the gateway, per connection) may reuse it while the
        #: generation is the same and the cache is not :attr:`stale`.
        self.generation = 0

    # --- the device table -------------------------------------------------------------------

    def refresh(self) -> int:
        """Reload every device from the database (blocking); returns how many there are."""
        entries = self._loader(None)
        with self._lock:
            self._devices = {e.station: e for e in entries}
            self._misses.clear()
            self._loaded_at = self._clock()
            self.stats["reloads"] += 1
            self.generation += 1
        return len(entries)

    def clear(self) -> None:
        """Forget everything (tests; after a bulk change of the registry)."""
        with self._lock:
            self._devices.clear()
            self._misses.clear()
            self._verified.clear()
            self._loaded_at = None
            self.generation += 1

    @property
    def stale(self) -> bool:
        loaded = self._loaded_at
        return loaded is None or self._clock() - loaded > self.max_age

    def peek(self, station: str) -> tuple[bool, DeviceEntry | None]:
        """From memory only: (known answer?, entry). ``(True, None)`` is a remembered miss."""
        if self.stale:
            return False, None
        entry = self._devices.get(station)
        if entry is not None:
            return True, entry
        missed = self._misses.get(station)
        if missed is not None and self._clock() - missed <= self.miss_age:
            return True, None
        return False, None

    def lookup(self, station: str) -> DeviceEntry | None:
        """The device with this station address, reloading or querying as needed (blocking)."""
        if self.stale:
            self.refresh()
        known, entry = self.peek(station)
        if known:
            return entry
        found = self._loader([station])
        with self._lock:
            self.stats["miss_queries"] += 1
            if found:
                entry = found[0]
                self._devices[station] = entry
                self._misses.pop(station, None)
                self.generation += 1
            else:
                self._misses[station] = self._clock()
        return entry

    # --- secrets ----------------------------------------------------------------------------

    def _cached_check(self, entry: DeviceEntry, secret: str) -> bool | None:
        key = (entry.secret_hash, secret)
        with self._lock:
            result = self._verified.get(key)
            if result is not None:
                self._verified.move_to_end(key)
        return result

    def check_secret(self, entry: DeviceEntry, secret: str) -> bool:
        """Whether ``secret`` is the device's (blocking on a cache miss: one hash check)."""
        cached = self._cached_check(entry, secret)
        if cached is not None:
            return cached
        result = self._checker(secret, entry.secret_hash)
        with self._lock:
            self.stats["hash_checks"] += 1
            self._verified[(entry.secret_hash, secret)] = result
            while len(self._verified) > self.max_verified:
                self._verified.popitem(last=False)
        return result

    # --- authentication ---------------------------------------------------------------------

    def authenticate_cached(
        self, protocol: str, station: str, secret: str | None
    ) -> AuthResult | None:
        """:meth:`authenticate` from memory only; ``None`` when that is not enough."""
        known, entry = self.peek(station)
        if not known:
            return None
        if entry is None or secret is None or entry.protocol != protocol or not entry.active:
            return _verdict(protocol, station, entry, secret, True)
        cached = self._cached_check(entry, secret)
        if cached is None:
            return None
        return _verdict(protocol, station, entry, secret, cached)

    def authenticate(self, protocol: str, station: str, secret: str | None) -> AuthResult:
        """Is ``station`` a registered, active device of ``protocol`` with this secret?

        ``secret=None`` skips the secret (SZY206 up frames carry no password). Blocking.
        """
        entry = self.lookup(station)
        ok = True
        if entry is not None and secret is not None and entry.protocol == protocol and entry.active:
            ok = self.check_secret(entry, secret)
        return _verdict(protocol, station, entry, secret, ok)


def _verdict(
    protocol: str, station: str, entry: DeviceEntry | None, secret: str | None, secret_ok: bool
) -> AuthResult:
    if entry is None:
        return AuthResult(
            None, "unknown_station", f"station {station} is not registered", "unknown"
        )
    if entry.protocol != protocol:
        return AuthResult(
            entry,
            "auth_failed",
            f"station {station} is registered for {entry.protocol}",
            "protocol",
        )
    if not entry.active:
        reason = f"device of station {station} is not active"
        return AuthResult(entry, "auth_failed", reason, "inactive")
    if secret is not None and not entry.secret_hash:
        reason = f"device of station {station} has no secret set"
        return AuthResult(entry, "auth_failed", reason, "no_secret")
    if not secret_ok:
        reason = f"wrong password or token for station {station}"
        return AuthResult(entry, "auth_failed", reason, "secret")
    return AuthResult(entry)


_default: DeviceCache | None = None
_default_lock = threading.Lock()


def default_cache() -> DeviceCache:
    """The process's shared cache (HTTP ingest; the gateway makes its own)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = DeviceCache()
        return _default
