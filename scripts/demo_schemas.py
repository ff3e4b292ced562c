"""`make demo`'s schema step: a throwaway PostgreSQL (pgserver), the example project's
schema loaded into it, `planvec managers run schemas --dsn ...` and one `--kind schema` search.

pgserver (a test extra, installed by `make demo`) bundles PostgreSQL 16 and starts without
root. Your own database works the same way: `planvec managers run schemas . --dsn URL`.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent.parent / "examples" / "project" / "db" / "schema.sql"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", required=True, help="the demo's index directory")
    args = parser.parse_args()
    planvec = str(Path(sys.executable).with_name("planvec"))
    root = Path(tempfile.mkdtemp(prefix="planvec-demo-pg-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    try:
        import psycopg

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

            server = pgserver.get_server(root, cleanup_mode="stop")
    except Exception as exc:  # the rest of the demo does not need it
        print(f"schema demo skipped: PostgreSQL (pgserver) could not start here: {exc}")
        return 0
    try:
        dsn = server.get_uri()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA.read_text(encoding="utf-8"))  # type: ignore[arg-type]
        common = ["--index", args.index]
        steps = [
            [planvec, "managers", "run", "schemas", str(SCHEMA.parent), "--dsn", dsn, *common],
            [planvec, "search", "who placed the order", "--kind", "schema", "-n", "3", *common],
        ]
        for step in steps:
            shown = ["postgresql://…" if part == dsn else part for part in step]
            print("$", " ".join(shown[1:] if shown[0] == planvec else shown), flush=True)
            if subprocess.run(step, check=False).returncode != 0:
                return 1
        return 0
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
