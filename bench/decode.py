"""Decoding speed of the telemetry codecs: frames per second on one core, per protocol.

    .venv/bin/python bench/decode.py [--quick]

Prints one JSON object. For each protocol it decodes a corpus of typical report frames (many
stations, varying times and values: groundwater depth/temperature/voltage reports and
withdrawal flow/volume reports; SZY206 C0H self-reports of flow and of level) in a loop on one
core and reports frames per CPU second (best and median of several rounds; CPU time, so other
processes on the machine disturb it less than wall time), and the same for a baseline decoder
measured in the same run: a straightforward implementation that computes the CRC bit by bit as
the standards describe it, reads BCD nibble by nibble and fields with ``int.from_bytes``.
The target is 50,000 frames/s per protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aquifer.telemetry.protocols import CHINA_TZ, sl651, szy206
from aquifer.telemetry.protocols.crc import crc8_bitwise, crc16_modbus_bitwise

TARGET = 50_000
BASELINE = (
    "straightforward decoder: CRC bit by bit (STD H.3.2 / CRC-8 E5H literally), "
    "BCD nibble by nibble, fields by int.from_bytes"
)


# Corpus ---------------------------------------------------------------------------------------


def corpus(n: int, seed: int = 651) -> dict[str, list[bytes]]:
    """``n`` typical report frames per protocol, from ``n`` different stations."""
    rnd = random.Random(seed)
    start = datetime(2024, 3, 1, tzinfo=CHINA_TZ)
    out: dict[str, list[bytes]] = {"SL651-HEX": [], "SL651-ASCII": [], "SZY206": []}
    for i in range(n):
        station = f"140522{i % 60000:04X}"
        observed = start + timedelta(hours=rnd.randrange(24 * 365))
        sent = observed + timedelta(seconds=rnd.randrange(1, 600))
        if i % 2:
            elements = [
                (0x0E, round(rnd.uniform(2, 120), 2)),
                (0x03, round(rnd.uniform(8, 20), 1)),
                (0x38, round(rnd.uniform(11, 14), 2)),
                (0x45, rnd.choice([0, 0x80, 0x400])),
            ]
            stype = 0x47
        else:
            elements = [
                (0x27, round(rnd.uniform(0, 0.05), 3)),
                (0x68, round(rnd.uniform(0, 150), 2)),
                (0x3C, round(rnd.uniform(800, 900), 3)),
                (0x38, round(rnd.uniform(11, 14), 2)),
            ]
            stype = 0x49
        for encoding in ("HEX", "ASCII"):
            out[f"SL651-{encoding}"].append(
                sl651.encode_report(
                    0x32,
                    station,
                    serial=rnd.randrange(1, 65536),
                    send_time=sent,
                    observation_time=observed,
                    elements=elements,
                    station_type=stype,
                    encoding=encoding,
                    password=rnd.randrange(65536),
                )
            )
        tp = szy206.Tp(sent.second, sent.minute, sent.hour, sent.day, 10)
        if i % 2:
            frame = szy206.encode_report(
                station,
                function=3,
                tp=tp,
                values=[round(rnd.uniform(0, 60), 3), rnd.randrange(10**7)],
            )
        else:
            frame = szy206.encode_report(
                station,
                function=2,
                tp=tp,
                values=[round(rnd.uniform(2, 120), 3)],
                alarm=rnd.choice([0, 1, 4]),
                status=0x20,
            )
        out["SZY206"].append(frame)
    return out


# Baseline: the straightforward decoder -----------------------------------------------------


def _bcd_nibbles(raw: bytes) -> int | None:
    value = 0
    for byte in raw:
        hi, lo = byte >> 4, byte & 0x0F
        if hi > 9 or lo > 9:
            return None
        value = value * 100 + hi * 10 + lo
    return value


def _bcd_time(raw: bytes) -> datetime:
    parts = [(b >> 4) * 10 + (b & 0x0F) for b in raw] + [0] * (6 - len(raw))
    return datetime(
        2000 + parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], tzinfo=CHINA_TZ
    )


def baseline_sl651_hex(data: bytes) -> dict[str, Any]:
    if crc16_modbus_bitwise(data[:-2]) != int.from_bytes(data[-2:], "big"):
        raise ValueError("CRC")
    length = int.from_bytes(data[11:13], "big") & 0x0FFF
    body = data[14 : 14 + length]
    out: dict[str, Any] = {
        "center": data[2],
        "station": data[3:8].hex().upper(),
        "password": int.from_bytes(data[8:10], "big"),
        "function": data[10],
        "serial": int.from_bytes(body[0:2], "big"),
        "send_time": _bcd_time(body[2:8]),
        "elements": [],
    }
    pos = 8
    while pos < len(body):
        code, ddef = body[pos], body[pos + 1]
        if code == 0xF1 and ddef == 0xF1:
            out["body_station"] = body[pos + 2 : pos + 7].hex().upper()
            out["station_type"] = body[pos + 7]
            pos += 8
        elif code == 0xF0 and ddef == 0xF0:
            out["observation_time"] = _bcd_time(body[pos + 2 : pos + 7])
            pos += 7
        else:
            size, dec = ddef >> 3, ddef & 7
            raw = body[pos + 2 : pos + 2 + size]
            if code == 0x45:
                value: Any = int.from_bytes(raw, "big")
            else:
                number = _bcd_nibbles(raw)
                value = None if number is None else number / 10**dec
            out["elements"].append((code, value))
            pos += 2 + size
    return out


def baseline_sl651_ascii(data: bytes) -> dict[str, Any]:
    if crc16_modbus_bitwise(data[:-4]) != int(data[-4:], 16):
        raise ValueError("CRC")
    text = data.decode("ascii")
    length = int(text[20:23], 16)
    body = text[24 : 24 + length]
    out: dict[str, Any] = {
        "center": int(text[1:3], 16),
        "station": text[3:13],
        "function": int(text[17:19], 16),
        "serial": int(body[:4], 16),
        "send_time": _bcd_time(bytes.fromhex(body[4:16])),
        "elements": [],
    }
    tokens = body[16:].split()
    i = 0
    while i < len(tokens):
        if tokens[i] == "ST":
            out["body_station"], out["station_type"] = tokens[i + 1], tokens[i + 2]
            i += 3
        elif tokens[i] == "TT":
            out["observation_time"] = _bcd_time(bytes.fromhex(tokens[i + 1]))
            i += 2
        else:
            out["elements"].append(
                (tokens[i], float(tokens[i + 1]) if tokens[i] != "ZT" else int(tokens[i + 1], 16))
            )
            i += 2
    return out


def baseline_szy206(data: bytes) -> dict[str, Any]:
    length = data[1]
    if crc8_bitwise(data[3 : 3 + length]) != data[3 + length]:
        raise ValueError("CRC")
    c = data[3]
    payload = data[10 : 3 + length]
    values = payload[:-9]
    unit = 5 if c & 0x0F == 3 else 4
    items = []
    for i in range(0, len(values), unit):
        raw = values[i : i + unit][::-1]
        number = _bcd_nibbles(bytes((raw[0] & 0x7F,)) + raw[1:])
        items.append(None if number is None else (-number if raw[0] & 0x80 else number))
    return {
        "control": c,
        "station": data[4:9].hex().upper(),
        "afn": data[9],
        "values": items,
        "alarm": int.from_bytes(payload[-9:-7], "little"),
        "status": int.from_bytes(payload[-7:-5], "little"),
        "tp": payload[-5:],
    }


# Measurement ---------------------------------------------------------------------------------


def rate(
    decode: Callable[[bytes], Any], frames: list[bytes], seconds: float, rounds: int
) -> list[float]:
    """Frames per CPU second, one figure per round of about ``seconds`` CPU seconds."""
    figures = []
    for _ in range(rounds):
        count = 0
        clock = time.process_time
        t0 = clock()
        while True:
            for frame in frames:
                decode(frame)
            count += len(frames)
            elapsed = clock() - t0
            if elapsed >= seconds:
                break
        figures.append(count / elapsed)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (well under a minute)")
    args = parser.parse_args(argv)
    n, seconds, rounds = (300, 0.4, 3) if args.quick else (3000, 2.0, 5)
    frames = corpus(n)
    decoders: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
        "SL651-HEX": (sl651.decode, baseline_sl651_hex),
        "SL651-ASCII": (sl651.decode, baseline_sl651_ascii),
        "SZY206": (szy206.decode, baseline_szy206),
    }
    results: dict[str, Any] = {}
    wall0 = time.perf_counter()
    for name, (ours, base) in decoders.items():
        sample = frames[name]
        check = ours(sample[1])  # both decoders agree on what they read
        assert check.checksum_ok and base(sample[1])
        mine = rate(ours, sample, seconds, rounds)
        theirs = rate(base, sample, seconds / 2, max(2, rounds - 2))
        best, best_base = max(mine), max(theirs)
        results[name] = {
            "frames_per_s": round(best),
            "median_frames_per_s": round(statistics.median(mine)),
            "us_per_frame": round(1e6 / best, 2),
            "baseline_frames_per_s": round(best_base),
            "speedup_vs_baseline": round(best / best_base, 2),
            "bytes_per_frame": round(sum(map(len, sample)) / len(sample), 1),
            "elements_per_frame": round(
                sum(len(ours(f).elements) for f in sample[:200]) / min(200, len(sample)), 1
            ),
            "meets_target": best >= TARGET,
        }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(
        json.dumps(
            {
                "benchmark": "telemetry frame decoding, one core",
                "quick": args.quick,
                "unit": "frames per CPU second (best of rounds; median also given)",
                "target_frames_per_s": TARGET,
                "frames_in_corpus": n,
                "rounds": rounds,
                "baseline": BASELINE,
                "results": results,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "load_average_1min": None if load is None else round(load, 2),
                "wall_seconds": round(time.perf_counter() - wall0, 1),
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
