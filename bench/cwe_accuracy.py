"""CWE classification accuracy with the real model (all-MiniLM-L6-v2 on ONNX Runtime).

Two labelled sets, written by hand before any classifier run (tests/fixtures/security/):

* ``cwe_findings_dev.jsonl`` (16 findings): the only set design choices may be made on;
  ``--set dev --variants`` compares the classifier's variants on it;
* ``cwe_findings_test.jsonl`` (75 findings, EN and FR): held out. ``--set test`` measures
  the default classifier once and writes ``bench/results/cwe_accuracy.json``. Never tune on it.

Examples::

    HF_HUB_OFFLINE=1 python bench/cwe_accuracy.py --set dev --variants
    HF_HUB_OFFLINE=1 python bench/cwe_accuracy.py --set test
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from planvec.embed.factory import make_embedder
from planvec.managers.cwe import CweClassifier, Weakness, accuracy, load_catalogue, prototypes

REPO = Path(__file__).resolve().parent.parent
SETS = REPO / "tests" / "fixtures" / "security"
RESULTS = REPO / "bench" / "results" / "cwe_accuracy.json"


def load_set(name: str) -> list[dict[str, Any]]:
    path = SETS / f"cwe_findings_{name}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def name_only(weakness: Weakness) -> list[str]:
    return [f"{weakness.name}. {weakness.description}"]


def with_extended(weakness: Weakness) -> list[str]:
    return [*prototypes(weakness), f"{weakness.name}. {weakness.extended}"]


VARIANTS = {
    "default (raw text, name+description, alternate terms)": {},
    "glossary rendering (as search)": {"render": True},
    "name+description only": {"prototype_texts": name_only},
    "plus extended description": {"prototype_texts": with_extended},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("dev", "test"), default="dev")
    parser.add_argument("--variants", action="store_true", help="compare variants (dev only)")
    parser.add_argument("--embedder", default="onnx")
    parser.add_argument("--cache-dir", type=Path, default=Path("~/.cache/planvec").expanduser())
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.variants and args.set == "test":
        raise SystemExit("variants are compared on the dev set only: never tune on the test set")
    embedder = make_embedder(args.embedder, args.cache_dir)
    labelled = load_set(args.set)
    catalogue = load_catalogue()
    chosen = VARIANTS if args.variants else {"default": {}}
    for name, options in chosen.items():
        started = time.perf_counter()
        classifier = CweClassifier(embedder, catalogue, **options)
        result = accuracy(classifier, labelled, k=3)
        seconds = time.perf_counter() - started
        print(f"{args.set} {name}: n={result['n']} top1={result['top1']} top3={result['top3']} "
              f"by_lang={result['by_lang']} ({seconds:.1f} s)")  # fmt: skip
        for row in result["rows"]:
            if not row["top1"]:
                print(f"   miss {row['label']:<9} -> {row['predicted']}  {row['text'][:70]}")
    if args.set == "test" and not args.no_write:
        out = {
            "set": "tests/fixtures/security/cwe_findings_test.jsonl",
            "cwe_version": catalogue.version,
            "catalogue_size": len(catalogue.weaknesses),
            "model": embedder.model_id,
            "embedder": args.embedder,
            "seconds": round(seconds, 2),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "note": "machine shared with other jobs (2 cores, loaded); accuracy does not depend on load",
            **{k: v for k, v in result.items() if k != "rows"},
            "misses": [r for r in result["rows"] if not r["top1"]],
        }
        RESULTS.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
