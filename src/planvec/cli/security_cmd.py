"""``planvec security``: CWE classification and the anomaly check from the command line.

Thin: options in, one library call (``planvec.managers.cwe`` / ``anomalies``), rendering out.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    embedder_option,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)


@click.group(context_settings=CONTEXT_SETTINGS)
def security() -> None:
    """Security manager tools: CWE classification and embedding anomalies.

    \b
    Example:
      planvec security classify "SQL injection in the login form"
      planvec security anomalies --collection planvec_policies
    """


@security.command(context_settings=CONTEXT_SETTINGS)
@click.argument("texts", nargs=-1)
@click.option("--tasks", is_flag=True, help="Classify every task of the index instead.")
@click.option(
    "-k",
    "top_k",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Weaknesses per text.",
)
@store_options
@embedder_option
@json_option
@handle_errors
def classify(texts: tuple[str, ...], tasks: bool, top_k: int, json_: bool, **where: Any) -> None:
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
    settings = settings_from(**where)
    rows: list[tuple[str, str | None]] = [(text, None) for text in texts]
    if tasks:
        with open_index(settings) as index:
            index.check_manifest()
            points = index.points.scroll(with_payload=("text", "plan", "line"))
            rows = [
                (str(p.payload.get("text", "")), f"{p.payload.get('plan')}:{p.payload.get('line')}")
                for p in points
            ]
            classifier = CweClassifier(index.embedder)
    else:
        classifier = CweClassifier(open_embedder(settings))
    results = classifier.classify([text for text, _ in rows], k=top_k)
    out: list[dict[str, Any]] = [
        {"text": text, "where": at, "cwe": [m.to_dict() for m in top]}
        for (text, at), top in zip(rows, results, strict=True)
    ]
    version = classifier.catalogue.version
    if json_:
        click.echo(
            json.dumps({"cwe_version": version, "results": out}, ensure_ascii=False, indent=2)
        )
        return
    for row, top in zip(out, results, strict=True):
        click.echo(f"{row['where'] + '  ' if row['where'] else ''}{row['text']}")
        for match in top:
            click.echo(f"  {match.cwe_id:<9} {match.score:.3f}  {match.name}")
    click.echo(f"(CWE {version} subset)", err=True)


@security.command(context_settings=CONTEXT_SETTINGS)
@store_options
@embedder_option
@json_option
@handle_errors
def anomalies(json_: bool, **where: Any) -> None:
    """Items of a collection far from every other item (nearest-neighbour outliers).

    Exit code 1 when anomalies are found.

    \b
    Example:
      planvec security anomalies --collection planvec_policies --json
    """
    from planvec.managers.anomalies import find_anomalies
    from planvec.wiring import open_index

    settings = settings_from(**where)
    with open_index(settings) as index:
        index.check_manifest()
        found = find_anomalies(index, manager="security")
    if json_:
        click.echo(json.dumps([f.to_dict() for f in found], ensure_ascii=False, indent=2))
    else:
        for finding in found:
            click.echo(finding.message)
        click.echo(f"{len(found)} anomalies in {settings.collection}", err=True)
    sys.exit(1 if found else 0)


COMMANDS = (security,)
