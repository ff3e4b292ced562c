"""``planvec security``: CWE classification and the anomaly check from the command line.

Registered through the ``register_commands`` hook of ``planvec.managers.security``, so the
root CLI needs no edit. Thin: options in, one library call, rendering out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from planvec.errors import PlanvecError
from planvec.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _index_options(func: F) -> F:
    options = [
        click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False),
                     help="Directory of the embedded index (default .planvec). Env PLANVEC_INDEX_DIR."),
        click.option("--qdrant-url", default=None, help="A Qdrant server URL. Env PLANVEC_QDRANT_URL."),
        click.option("--collection", default=None, help="Collection name. Env PLANVEC_COLLECTION."),
        click.option("--offline", is_flag=True, help="Hashing embedder (no model; tests only)."),
        click.option("--json", "json_", is_flag=True, help="Print JSON on stdout."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _settings(index_dir: Path | None, qdrant_url: str | None, collection: str | None,
              offline: bool) -> Settings:  # fmt: skip
    return load_settings(
        index_dir=index_dir,
        qdrant_url=qdrant_url,
        collection=collection,
        embedder="hashing" if offline else None,
    )


@click.group(context_settings=_CONTEXT)
def security() -> None:
    """Security manager tools: CWE classification and embedding anomalies.

    \b
    Example:
      planvec security classify "SQL injection in the login form"
      planvec security anomalies --collection planvec_policies
    """


@security.command(context_settings=_CONTEXT)
@click.argument("texts", nargs=-1)
@click.option("--tasks", is_flag=True, help="Classify every task of the index instead.")
@click.option("-k", "top_k", type=click.IntRange(1, 20), default=3, show_default=True,
              help="Weaknesses per text.")  # fmt: skip
@_index_options
def classify(texts: tuple[str, ...], tasks: bool, top_k: int, index_dir: Path | None,
             qdrant_url: str | None, collection: str | None, offline: bool, json_: bool) -> None:  # fmt: skip
    """Map free-text findings (or the index's tasks) to their nearest CWE weaknesses.

    \b
    Example:
      planvec security classify "Le cookie de session n'a pas l'attribut HttpOnly"
      planvec security classify --tasks --collection planvec_tasks --json
    """
    from planvec.managers.cwe import CweClassifier
    from planvec.wiring import open_embedder, open_index

    if not texts and not tasks:
        raise click.UsageError("give one or more TEXTS, or --tasks")
    settings = _settings(index_dir, qdrant_url, collection, offline)
    try:
        if tasks:
            with open_index(settings) as index:
                index.check_manifest()
                rows = [(str(p.payload.get("text", "")), f"{p.payload.get('plan')}:{p.payload.get('line')}")
                        for p in index.points.scroll(with_payload=("text", "plan", "line"))]  # fmt: skip
                classifier = CweClassifier(index.embedder)
        else:
            rows = [(text, None) for text in texts]  # type: ignore[misc]
            classifier = CweClassifier(open_embedder(settings))
        results = classifier.classify([text for text, _ in rows], k=top_k)
    except PlanvecError as exc:
        raise click.ClickException(str(exc)) from exc
    out = [{"text": t, "where": w, "cwe": [m.to_dict() for m in r]} for (t, w), r in zip(rows, results, strict=True)]
    if json_:
        click.echo(json.dumps({"cwe_version": classifier.catalogue.version, "results": out}, ensure_ascii=False, indent=2))
        return
    for row in out:
        click.echo(f"{row['where'] + '  ' if row['where'] else ''}{row['text']}")
        for match in row["cwe"]:
            click.echo(f"  {match['cwe_id']:<9} {match['score']:.3f}  {match['name']}")
    click.echo(f"(CWE {classifier.catalogue.version} subset)", err=True)


@security.command(context_settings=_CONTEXT)
@_index_options
def anomalies(index_dir: Path | None, qdrant_url: str | None, collection: str | None,
              offline: bool, json_: bool) -> None:  # fmt: skip
    """Items of a collection far from every other item (nearest-neighbour outliers).

    Exit code 1 when anomalies are found.

    \b
    Example:
      planvec security anomalies --collection planvec_policies --json
    """
    from planvec.managers.anomalies import find_anomalies
    from planvec.wiring import open_index

    settings = _settings(index_dir, qdrant_url, collection, offline)
    try:
        with open_index(settings) as index:
            index.check_manifest()
            found = find_anomalies(index, manager="security")
    except PlanvecError as exc:
        raise click.ClickException(str(exc)) from exc
    if json_:
        click.echo(json.dumps([f.to_dict() for f in found], ensure_ascii=False, indent=2))
    else:
        for finding in found:
            click.echo(finding.message)
        click.echo(f"{len(found)} anomalies in {settings.collection}", err=True)
    sys.exit(1 if found else 0)
