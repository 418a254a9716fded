"""Invented identifiers: valid unified social credit codes, and the demo devices' secrets."""

from __future__ import annotations

import hashlib
import hmac
import random

from stdnum.cn import uscc

from aquifer.registry.choices import Protocol
from aquifer.registry.demo.county import COUNTY_CODE

__all__ = ["demo_device_secret", "organisation_uscc"]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(rng: random.Random) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and their check character."""
    body = "MA" + "".join(rng.choice(_USCC_ALPHABET) for _ in range(6))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def organisation_uscc(category: str, rng: random.Random) -> str:
    """An invented but valid unified social credit code (GB 32100-2015) registered in the county.

    ``category`` is the registration authority and kind: ``"91"`` enterprise, ``"93"`` farmer
    cooperative, ``"12"`` public institution, ``"54"`` village committee (civil affairs; the
    kind digit 4 for grassroots self-government bodies is used in practice but is not in the
    2015 table we hold [U]). The check character comes from python-stdnum.
    """
    body = category + COUNTY_CODE + _org_code(rng)
    return body + uscc.calc_check_digit(body)


def demo_device_secret(protocol: str, station_address: str) -> str:
    """The secret of a demo device, so that a simulator can authenticate as it.

    SL 651 and SZY 206 passwords are 2 bytes (4 hex digits, protocols.md); MQTT and HTTP
    devices get a 16-hex-digit token. Derived from the address: anyone with the source knows
    them, which is what a demo wants and a real installation must not do.
    """
    digest = hmac.new(b"aquifer-demo-device", station_address.encode(), hashlib.sha256)
    if protocol in (Protocol.SL651, Protocol.SZY206):
        return digest.hexdigest()[:4].upper()
    return digest.hexdigest()[:16]
