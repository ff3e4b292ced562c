"""Cost of the anomaly check (``planvec.managers.anomalies``) by collection size.

Synthetic unit vectors of 384 dimensions (clusters plus noise; the cost does not depend on
the values), the exact k-NN scan in chunks of 1,024 rows. Writes
``bench/results/anomalies.json`` with the load average: the machine is shared.

Example::

    python bench/anomalies.py --sizes 1000 5000 20000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from planvec.managers.anomalies import anomalies_of

RESULTS = Path(__file__).resolve().parent / "results" / "anomalies.json"


def records(n: int, rng: np.random.Generator) -> list[tuple[str, list[float], dict[str, object]]]:
    centers = rng.normal(size=(max(1, n // 200), 384))
    rows = centers[rng.integers(0, len(centers), n)] + 0.5 * rng.normal(size=(n, 384))
    return [(str(i), row.tolist(), {"text": str(i)}) for i, row in enumerate(rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    out = []
    for n in args.sizes:
        data = records(n, rng)
        started = time.perf_counter()
        found = anomalies_of(data, "bench")
        seconds = time.perf_counter() - started
        row = {"items": n, "seconds": round(seconds, 2), "anomalies": len(found)}
        print(row)
        out.append(row)
    result = {
        "dimension": 384,
        "runs": out,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "note": "shared 2-core machine, other jobs running (see load_average)",
    }
    if not args.no_write:
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
