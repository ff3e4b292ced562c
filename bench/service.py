"""Benchmark of `planvec serve` on loopback: load during a full sync, warm search, CLI calls.

Three measurements, each against a real owner process (`python -m planvec serve`):

* load: CLIENTS concurrent HTTP clients (keep-alive, one thread each) send `POST /search`
  for SECONDS while a full sync of the corpus runs (`POST /sync`: every task is new, so every
  task is embedded and written); requests/s, p50/p95/p99 latency, errors (target 0).
* warm: one client, sequential `POST /search` on the synced index (query embedding included);
  p50/p95 (target p95 <= 25 ms at 20k tasks with the real model).
* cli: `planvec search` as a new process routed through the owner, process start to printed
  result; median/p95 (target <= 0.15 s), and the same without an owner (PLANVEC_OWNER=off).

    python bench/service.py --corpus ../shared/corpus/plans --seconds 60 --clients 50
    python bench/service.py --synth 20000 --embedder auto      # 20k synthetic tasks

Prints a Markdown report. On a loaded machine, say so next to the numbers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from _common import git_commit, machine, replace_section  # noqa: E402
from planvec.service.discovery import OwnerInfo, discovery_path, read_discovery  # noqa: E402

RESULTS = REPO / "bench" / "results" / "service.json"
SECTION = "Service (`planvec serve`)"

QUERIES = [
    "sauvegarde de la base de données", "write the API documentation", "monitoring alerts",
    "déploiement en production", "tests de charge", "authentification des utilisateurs",
    "rotate the backups", "pipeline CI", "migration du schéma", "tableau de bord Grafana",
]  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Client:
    """One keep-alive HTTP connection to the owner."""

    def __init__(self, info: OwnerInfo) -> None:
        url = urllib.parse.urlsplit(info.url)
        self.conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=600)
        self.headers = {"Authorization": f"Bearer {info.token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def start_owner(
    workdir: Path, embedder: str, corpus: Path
) -> tuple[subprocess.Popen[bytes], OwnerInfo]:
    # a cold embedding cache: the full sync really embeds every task
    env = dict(os.environ, PLANVEC_EMBEDDER=embedder, XDG_CACHE_HOME=str(workdir / "cache"))
    # the seed plan (in workdir) and the corpus (elsewhere) share one index root
    env["PLANVEC_ROOT"] = os.path.commonpath([str(workdir), str(corpus.resolve())])
    index_dir = workdir / ".planvec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "planvec", "serve", "--index", str(index_dir)],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    path = discovery_path(index_dir, None, "planvec_tasks", Path("unused"))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        info = read_discovery(path)
        if info is not None and info.pid == proc.pid:
            return proc, info
        if proc.poll() is not None:
            raise SystemExit(f"owner exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    raise SystemExit("owner did not start")


def load(info: OwnerInfo, corpus: Path, seconds: float, clients: int) -> dict[str, Any]:
    """Searches from ``clients`` threads during a full sync of ``corpus``."""
    latencies: list[float] = []
    errors: list[int] = []
    stop = threading.Event()
    lock = threading.Lock()

    def worker(n: int) -> None:
        client = Client(info)
        i = n
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = client.post("/search", {"query": QUERIES[i % len(QUERIES)], "limit": 10})
            took = time.perf_counter() - started
            with lock:
                (latencies if status == 200 else errors).append(took if status == 200 else status)
            i += 1

    sync_result: dict[str, Any] = {}

    def sync() -> None:
        started = time.perf_counter()
        status, body = Client(info).post("/sync", {"paths": [str(corpus.resolve())]})
        sync_result.update(status=status, seconds=time.perf_counter() - started)
        if status == 200:
            sync_result["report"] = json.loads(body)

    syncer = threading.Thread(target=sync)
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(clients)]
    began = time.perf_counter()
    syncer.start()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - began
    syncer.join()
    return {
        "clients": clients, "seconds": round(elapsed, 1), "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1), "p50_ms": round(1000 * pct(latencies, 0.5), 1),
        "p95_ms": round(1000 * pct(latencies, 0.95), 1),
        "p99_ms": round(1000 * pct(latencies, 0.99), 1), "errors": len(errors),
        "sync_status": sync_result.get("status"), "sync_seconds": round(sync_result.get("seconds", 0), 1),
        "tasks": (sync_result.get("report") or {}).get("tasks"),
    }  # fmt: skip


def warm(info: OwnerInfo, rounds: int) -> dict[str, Any]:
    client = Client(info)
    client.post("/search", {"query": "warm up"})
    times = []
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            status, _ = client.post("/search", {"query": query, "limit": 10})
            times.append(time.perf_counter() - started)
            assert status == 200, status
    return {"requests": len(times), "p50_ms": round(1000 * pct(times, 0.5), 2),
            "p95_ms": round(1000 * pct(times, 0.95), 2)}  # fmt: skip


def cli(workdir: Path, runs: int, owner: bool) -> dict[str, Any]:
    env = dict(os.environ, PLANVEC_OWNER="auto" if owner else "off")
    times = []
    for i in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "planvec", "search", QUERIES[i % len(QUERIES)], "--limit", "5"],
            cwd=workdir, env=env, capture_output=True,
        )  # fmt: skip
        times.append(time.perf_counter() - started)
        assert out.returncode == 0, out.stderr.decode()
    return {"runs": runs, "median_s": round(statistics.median(times), 3),
            "p95_s": round(pct(times, 0.95), 3)}  # fmt: skip


def render(record: dict[str, Any]) -> str:
    """The docs/benchmarks.md section, from a result record (``bench/results/service.json``)."""
    r = record["results"]
    load, warm, cli_owner, cli_alone = r["load"], r["warm"], r["cli_owner"], r["cli_no_owner"]
    return "\n".join([
        f"`python {record['benchmark']}` ({r['embedder']} embedder) on {record['machine']}; "
        f"{record['corpus']}; a real owner on loopback, cold embedding cache; one run, "
        f"{record['date']}, commit {record['commit'][:7]}. Raw figures: "
        "`bench/results/service.json`; the reading is in `docs/service.md`.",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| {load['clients']} keep-alive clients × {load['seconds']:.0f} s of `POST /search` "
        f"during a full sync ({load['sync_seconds']:.0f} s) | {load['requests']} requests, "
        f"{load['rps']} req/s, p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms, "
        f"p99 {load['p99_ms']:.0f} ms, {load['errors']} errors |",
        f"| warm `POST /search` (hybrid, query embedding included), {warm['requests']} "
        f"requests | p50 {warm['p50_ms']:.1f} ms, p95 {warm['p95_ms']:.1f} ms |",
        f"| `planvec search` through the owner, process start to printed result, "
        f"{cli_owner['runs']} runs | median {cli_owner['median_s']} s, p95 {cli_owner['p95_s']} s |",
        f"| `planvec search` without an owner, {cli_alone['runs']} runs | median "
        f"{cli_alone['median_s']} s, p95 {cli_alone['p95_s']} s |",
    ])  # fmt: skip


def record_results(results: dict[str, Any], argv: list[str], corpus: Path) -> dict[str, Any]:
    """The committed record of one run: what ran, where, on which commit, how busy."""
    commit = git_commit()
    return {
        "benchmark": " ".join(["bench/service.py", *argv]),
        "date": time.strftime("%Y-%m-%d"),
        "commit": commit,
        "machine": f"{machine()}, load average {os.getloadavg()[0]:.2f} when it ended",
        "corpus": str(corpus),
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "plans")
    ap.add_argument("--synth", type=int, default=0, help="use N synthetic tasks instead")
    ap.add_argument("--embedder", default="hashing")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--cli-runs", type=int, default=20)
    ap.add_argument("--no-doc", action="store_true", help="do not write the results and docs")
    ap.add_argument(
        "--render", action="store_true", help="only rewrite the docs section from RESULTS"
    )
    args = ap.parse_args(argv)
    doc = REPO / "docs" / "benchmarks.md"
    if args.render:
        replace_section(doc, SECTION, render(json.loads(RESULTS.read_text(encoding="utf-8"))))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="planvec-bench-serve-"))
    corpus = args.corpus
    if args.synth:
        sys.path.insert(0, str(REPO / "bench"))
        from synth import generate, learn  # type: ignore[import-not-found]

        corpus = workdir / "plans"
        generate(learn(args.corpus), args.synth, corpus)
    elif not corpus.is_dir():
        print(f"skipped: {corpus} not found")
        return 0
    seed = workdir / "seed"
    seed.mkdir()
    (seed / "seed.md").write_text("# Seed\n\n- [ ] seed task\n", encoding="utf-8")
    proc, info = start_owner(workdir, args.embedder, corpus)
    try:
        Client(info).post("/sync", {"paths": [str(seed)]})  # the collection exists from here
        results = {
            "load": load(info, corpus, args.seconds, args.clients),
            "warm": warm(info, args.rounds),
            "cli_owner": cli(workdir, args.cli_runs, owner=True),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=120)
    results["cli_no_owner"] = cli(workdir, max(3, args.cli_runs // 4), owner=False)
    results["embedder"] = args.embedder
    print(json.dumps(results, indent=2))
    if not args.no_doc:
        record = record_results(results, sys.argv[1:] if argv is None else argv, corpus)
        RESULTS.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        replace_section(doc, SECTION, render(record))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
