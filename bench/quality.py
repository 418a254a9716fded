"""GB/T 14848-2017 classification speed: 100,000 samples × the 39 regular indicators.

    .venv/bin/python bench/quality.py [--quick] [--samples N] [--baseline B]

Prints one JSON object. Synthetic samples (seeded): each of Table 1's 39 indicators drawn
log-uniformly across its class limits (pH 5–10; 无/有 at 10 % 有). Measured: the vectorised
path — ``classify_values`` per indicator over all samples, then the sample class as the row
maximum and the deciding indicators (§6.3) — in samples per second. Baseline, in the same run:
the naive way on a subsample (``--baseline``, default 5,000; quick 1,000): ``classify_sample``
per sample, one ``classify`` call per value (unit check, first-match in Python). ``agree``:
both give the same sample classes on the subsample.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aquifer.analysis.quality import (
    Indicator,
    Measurement,
    classify_sample,
    classify_values,
    load_standard,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--samples", type=int)
    ap.add_argument("--baseline", type=int)
    args = ap.parse_args()
    n = args.samples or (10_000 if args.quick else 100_000)
    nb = min(n, args.baseline or (1_000 if args.quick else 5_000))
    rng = np.random.default_rng(14848)
    indicators = [i for i in load_standard().values() if i.table == 1]
    values = np.empty((n, len(indicators)))
    for j, ind in enumerate(indicators):
        if ind.is_ph:
            values[:, j] = np.round(rng.uniform(5, 10, n), 2)
        elif ind.qualitative:
            values[:, j] = (rng.random(n) < 0.1).astype(float)
        else:
            top = max(c.upper or 0 for c in ind.conditions) * 2
            values[:, j] = np.round(top * 10 ** rng.uniform(-3, 0, n), 6)

    t0 = time.perf_counter()
    classes = np.stack([classify_values(ind, values[:, j]) for j, ind in enumerate(indicators)], 1)
    overall = classes.max(axis=1)
    deciding = classes == overall[:, None]
    t1 = time.perf_counter()

    def value(ind: Indicator, v: float) -> float | str:
        return ("有" if v else "无") if ind.qualitative else float(v)

    t2 = time.perf_counter()
    naive = [
        classify_sample(
            str(i),
            [
                Measurement(
                    ind.name_cn, value(ind, values[i, j]), ind.units()[0] if ind.units() else ""
                )
                for j, ind in enumerate(indicators)
            ],
        ).klass
        for i in range(nb)
    ]
    t3 = time.perf_counter()
    fast = (t1 - t0) / n
    slow = (t3 - t2) / nb
    print(
        json.dumps(
            {
                "benchmark": "quality",
                "samples": n,
                "indicators": len(indicators),
                "seconds": round(t1 - t0, 4),
                "samples_per_second": round(1 / fast),
                "baseline": "classify_sample per sample, classify per value (naive)",
                "baseline_samples": nb,
                "baseline_samples_per_second": round(1 / slow),
                "speedup": round(slow / fast, 1),
                "agree": naive == overall[:nb].tolist(),
                "deciding_per_sample": round(float(deciding.sum(axis=1).mean()), 2),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
