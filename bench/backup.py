"""Backup benchmark: export and import of a whole index (issue 7).

Indexes the shared DEV corpus with the hashing embedder (vectors are 384-d like the real
model's, and embedding speed is not what this measures) into Qdrant Edge, then measures:

* ``export_collection`` to an archive: seconds, points/s, archive size;
* ``import_archive`` into a fresh Edge index and into ``memory://``: seconds, points/s,
  including the full verification (pre-write archive check, read-back, digest).

Usage: ``python bench/backup.py [--write-docs]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _common import REPO, corpus_or_exit, machine, replace_section, timed
from planvec.backup.transfer import export_collection, import_archive
from planvec.embed.hashing import HashingEmbedder
from planvec.index import Index, sources_for
from planvec.store import open_store
from planvec.text.lexical import LexicalEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    corpus = corpus_or_exit()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        store = open_store(index_dir=base / "src")
        index = Index(store, HashingEmbedder(), lexical=LexicalEncoder())
        index.sync(sources_for([corpus]))
        points = index.count()
        report, seconds = timed(lambda: export_collection(store, "planvec_tasks", base / "a.tar"))
        store.close()
        size = report.bytes / 1e6
        rows.append(("export (Edge -> archive)", seconds, points / seconds, f"{size:.1f} MB"))
        for name, url in (("Edge", None), ("memory://", "memory://")):
            target = open_store(index_dir=base / f"dst-{name}", qdrant_url=url)
            result, seconds = timed(lambda t=target: import_archive(t, base / "a.tar"))
            assert result.ok, result.to_dict()
            rows.append((f"import + verify (archive -> {name})", seconds, points / seconds, "ok"))
            target.close()
    load = os.getloadavg()[0]
    lines = [
        f"DEV corpus, {points} points (384-d + sparse), {machine()}, load average {load:.1f} "
        "during the run (the machine is shared: rerun `python bench/backup.py --write-docs`).",
        "",
        "| step | seconds | points/s | note |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b:.1f} | {c:,.0f} | {d} |" for a, b, c, d in rows]
    body = "\n".join(lines)
    print(body)
    if args.write_docs:
        replace_section(REPO / "docs" / "benchmarks.md", "Backup (export / import)", body)


if __name__ == "__main__":
    main()
