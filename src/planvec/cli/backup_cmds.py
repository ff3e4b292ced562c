"""``planvec export``, ``import``, ``migrate-legacy`` and ``migrate-model`` (see docs/backup.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from planvec.cli.common import (
    CONTEXT_SETTINGS,
    activity,
    echo_json,
    embedder_option,
    err,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)
from planvec.settings import known_embedders


@click.command("export", context_settings=CONTEXT_SETTINGS)
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
@store_options
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@json_option
@handle_errors
def export_command(out: Path, force: bool, json_: bool, **opts: Any) -> None:
    """Write one portable, checksummed archive of an index (points, vectors, manifest).

    The archive (mode 0600) restores into any backend with `planvec import`; it holds no
    API key. An existing OUT is kept unless --force is given.

    \b
    Example:
      planvec export backup.planvec.tar
      planvec export backup.tar --qdrant-url http://localhost:6333 --json
    """
    from planvec.backup.ops import export_index

    with activity(not json_, "exporting") as update:
        report = export_index(
            settings_from(**opts),
            out,
            overwrite=force,
            progress=lambda done, total: update(f"{done:,}/{total:,} points"),
        )
    if json_:
        echo_json(report.to_dict())
        return
    click.echo(
        f"Exported {report.points} points of {report.collection!r} to {report.archive} "
        f"({report.bytes / 1e6:.1f} MB, sha256 {report.sha256[:16]}...) in {report.seconds:.1f}s"
    )


@click.command("import", context_settings=CONTEXT_SETTINGS)
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@store_options
@click.option("--force", is_flag=True, help="Replace a collection that already holds points.")
@json_option
@handle_errors
def import_command(archive: Path, force: bool, json_: bool, **opts: Any) -> None:
    """Restore an archive into an embedded index or a server, then verify it.

    The whole archive is verified (names, sizes, checksums, points) before anything is
    written. Counts, the content digest and every vector are compared after the import;
    exit code 1 when they differ.

    \b
    Example:
      planvec import backup.planvec.tar --index restored/
      planvec import backup.planvec.tar --qdrant-url http://localhost:6333 --collection tasks_v2
    """
    from planvec.backup.ops import import_index

    collection = opts.get("collection")
    report = import_index(settings_from(**opts), archive, collection=collection, force=force)
    if json_:
        echo_json(report.to_dict())
    else:
        state = "verified" if report.ok else "NOT verified"
        click.echo(
            f"Imported {report.points}/{report.expected_points} points into "
            f"{report.collection!r} ({report.backend}), {state}: digest "
            f"{'ok' if report.content_digest_ok else 'differs'}, {report.vectors_checked} "
            f"vectors compared, {len(report.mismatches)} mismatches"
        )
        for line in report.mismatches[:10]:
            err(f"mismatch: {line}")
    if not report.ok:
        sys.exit(1)


@click.command("migrate-legacy", context_settings=CONTEXT_SETTINGS)
@click.option("--from-url", default=None, help="Legacy Qdrant: http(s)://... or local://PATH.")
@click.option(
    "--from-archive",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A `planvec export` archive of the legacy collection.",
)
@click.option("--legacy-collection", default="roadmap_tasks", show_default=True,
              help="The legacy collection to read.")  # fmt: skip
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("legacy-migration"),
    show_default=True,
    help="Where the snapshot and the reports are written.",
)
@click.option("--plans-root", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None,
              help="The plans the collection was made from: tasks are placed in them, with "
                   "the ids `planvec index` gives them.")  # fmt: skip
@click.option("--plan-for", "plan_for", multiple=True, metavar="NAME=PATH",
              help="Place the legacy file NAME in plan PATH (relative to --plans-root), "
                   "for a name found several times. Repeatable.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Only write the reports.")
@click.option("--delete-source", is_flag=True,
              help="Drop the legacy collection after a passing verification.")  # fmt: skip
@store_options
@embedder_option
@json_option
@handle_errors
def migrate_legacy_command(
    from_url: str | None,
    from_archive: Path | None,
    legacy_collection: str,
    report_dir: Path,
    plans_root: Path | None,
    plan_for: tuple[str, ...],
    dry_run: bool,
    delete_source: bool,
    json_: bool,
    **opts: Any,
) -> None:
    """Migrate the legacy `roadmap_tasks` collection into a planvec index, verified.

    Reads what the legacy scripts wrote (camelCase and snake_case payloads), snapshots the
    source, writes an integrity report, places every task in its plan under --plans-root
    (same ids as `planvec index`), re-embeds with the real model, runs `check` and a search
    test, and writes REPORT_DIR/migration-report.md. The source is deleted only with
    --delete-source and a passing verification.

    \b
    Example:
      planvec migrate-legacy --from-url local://legacy_qdrant --plans-root plans/ --dry-run
      planvec migrate-legacy --from-url http://localhost:6333 --plans-root plans/
      planvec migrate-legacy --from-archive roadmap_tasks.planvec.tar --report-dir out/
      planvec migrate-legacy --from-url local://legacy_qdrant --plans-root plans/ \\
        --plan-for plan-v2.md=archive/plan-v2.md
    """
    from planvec.backup.ops import migrate_legacy_index

    choices = dict(_name_path(item) for item in plan_for)
    if choices and plans_root is None:
        raise click.UsageError("--plan-for needs --plans-root")
    report = migrate_legacy_index(
        settings_from(**opts), from_url=from_url, from_archive=from_archive,
        legacy_collection=legacy_collection, out_dir=report_dir, dry_run=dry_run,
        delete_source=delete_source, plans_root=plans_root, plan_for=choices,
    )  # fmt: skip
    if json_:
        echo_json(report.to_dict())
    else:
        _render_legacy(report)
        if not report.dry_run:
            verdict = "PASSED" if report.verified else "FAILED"
            click.echo(f"Migrated {report.present}/{report.tasks} tasks; verification {verdict}.")
        click.echo(f"Report: {report.report_path}")
        for problem in report.problems:
            err(f"problem: {problem}")
    if report.problems or not (report.dry_run or report.verified):
        sys.exit(1)


def _name_path(item: str) -> tuple[str, str]:
    name, sep, path = item.partition("=")
    if not sep or not name.strip() or not path.strip():
        raise click.BadParameter(f"{item!r}: expected NAME=PATH", param_hint="--plan-for")
    return name.strip(), path.strip().replace("\\", "/")


def _render_legacy(report: Any) -> None:
    i, p = report.integrity, report.placement
    click.echo(
        f"Legacy: {i.points} points ({', '.join(f'{k} {v}' for k, v in sorted(i.shapes.items()))}"
        f"), {i.distinct_tasks} distinct tasks, {len(i.duplicates)} duplicated, "
        f"{len(i.colliding)} colliding keys, {len(i.not_tasks)} not tasks (not migrated)."
    )
    if p.plans_root is not None:
        click.echo(
            f"Placed: {len(p.resolved)} files resolved, {len(p.not_found)} not found, "
            f"{len(p.ambiguous)} ambiguous; {p.matched_by_key + len(p.matched_by_text)} tasks "
            f"matched, {len(p.recovered)} recovered from the plans, {len(p.stale)} stale; "
            f"{p.uncaptured} never captured (left to `planvec index`)."
        )


@click.command("migrate-model", context_settings=CONTEXT_SETTINGS)
@click.option("--to", "to", type=click.Choice(known_embedders()), default=None,
              help="The new embedding model (backend name).")  # fmt: skip
@click.option("--apply", is_flag=True, help="Build, verify and switch (default: plan only).")
@click.option("--rollback", is_flag=True, help="Switch back to the previous collection.")
@click.option("--delete-old", is_flag=True, help="Drop the collections that are not live.")
@click.option("--max-quality-drop", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="Refuse the switch when a quality metric drops more than this.")  # fmt: skip
@store_options
@json_option
@handle_errors
def migrate_model_command(
    to: str | None,
    apply: bool,
    rollback: bool,
    delete_old: bool,
    max_quality_drop: float,
    json_: bool,
    **opts: Any,
) -> None:
    """Switch an index to another embedding model with no downtime, and back.

    Builds a new collection next to the live one, verifies it with `check` and `quality`,
    then switches atomically (Qdrant alias / embedded alias file). The old collection is
    kept for --rollback until --delete-old. Without options: shows the current state.

    \b
    Example (to a multilingual model, which reads French: e5, or usem3):
      planvec migrate-model --to e5               # plan only
      planvec migrate-model --to e5 --apply
      planvec migrate-model --rollback
      planvec migrate-model --delete-old
    """
    from planvec.backup.ops import migrate_model_index

    if sum((rollback, delete_old, to is not None)) > 1:
        raise click.UsageError("use one of --to, --rollback, --delete-old")
    result = migrate_model_index(
        settings_from(**opts), to=to, apply=apply, rollback=rollback,
        delete_old_collections=delete_old, max_quality_drop=max_quality_drop,
    )  # fmt: skip
    data = result if isinstance(result, dict) else result.to_dict()
    if json_:
        echo_json(data)
    else:
        _render_model(data)
    if data.get("problems") and data.get("action") == "apply":
        sys.exit(1)


def _render_model(data: dict[str, Any]) -> None:
    if "action" not in data:
        click.echo(
            f"{data['logical']} -> {data['live']} ({data.get('model_id')}, "
            f"{data.get('dimension')}-d); previous: {data.get('previous') or '-'}"
        )
        for name in data["collections"]:
            click.echo(f"  {'*' if name == data['live'] else ' '} {name}")
        return
    action = data["action"]
    if action == "plan":
        click.echo(f"Would build {data['new_collection']} with {data['new_model']} from "
                   f"{data['live_before']} ({data['points']} points, {data['old_model']}), "
                   "verify it and switch. Rerun with --apply.")  # fmt: skip
    elif action == "apply":
        state = "switched" if data["switched"] else "NOT switched (live index unchanged)"
        click.echo(f"Built {data['new_collection']} ({data['points']} points, {data['embedded']} "
                   f"embedded); check {data['check'].get('status')}; {state}.")  # fmt: skip
    elif action == "rollback":
        click.echo(f"Rolled back: {data['logical']} -> {data['live_after']} ({data['new_model']})")
    else:
        click.echo(f"Deleted: {', '.join(data['deleted'])}")
    for problem in data.get("problems", []):
        err(f"problem: {problem}")


COMMANDS = [export_command, import_command, migrate_legacy_command, migrate_model_command]
