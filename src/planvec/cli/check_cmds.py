"""``planvec check`` (alias ``validate-vectors``), ``planvec repair``, ``planvec quality``
(alias ``verify-quality``).

Exit codes: 0 consistent / no alert, 1 problems found / quality alert, 2 the check could not
run (store unreachable, bad options).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from planvec.checks.findings import check_must_run
from planvec.cli.common import (
    CONTEXT_SETTINGS,
    activity,
    alias_of,
    echo_json,
    embedder_option,
    err,
    handle_errors,
    json_option,
    settings_from,
    store_options,
)
from planvec.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.settings import Settings
    from planvec.sources.base import Source


def _write_markdown(path: Path | None, text: str) -> None:
    if path is None:
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the Markdown report {path}: {exc}") from exc


@contextmanager
def _read_cache(cache_dir: Path) -> Iterator[Any]:
    """The embedding cache when it exists (never created by a read-only check)."""
    from planvec.embed.cache import EmbeddingCache, default_cache_path

    path = default_cache_path(cache_dir)
    if not path.is_file():
        yield None
        return
    cache = EmbeddingCache(path)
    try:
        yield cache
    finally:
        cache.close()


def _file_option(flag: str, dest: str, help: str) -> Callable[[F], F]:
    """An optional file argument (a report to write, a baseline to read)."""
    return click.option(
        flag, dest, type=click.Path(path_type=Path, dir_okay=False), default=None, help=help
    )


@click.command("check", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@store_options
@embedder_option
@_file_option(
    "--markdown", "markdown_file", "Also write a Markdown report to this file (for a PR)."
)
@click.option(
    "--sample",
    type=click.IntRange(0, 1_000_000),
    default=256,
    show_default=True,
    help="Uncached vectors re-embedded to verify they match their text.",
)
@json_option
@handle_errors
def check_command(
    paths: tuple[Path, ...], markdown_file: Path | None, sample: int, json_: bool, **opts: Any
) -> None:
    """Check that the index holds exactly the plans of PATHS, with sound vectors (read-only).

    Checks the store, the manifest against the configuration, and for the plans given:
    missing tasks, stale points, orphans, duplicates, bad vectors (dimension, NaN, zero,
    norm, not the embedding of their text) and payloads lacking required fields. Exit code
    0 when consistent, 1 when problems were found, 2 when the check could not run.
    Without PATHS only the store, manifest, vectors and payloads are checked.

    \b
    Example:
      planvec check docs/plans
      planvec check docs/plans --json --markdown check.md
    """
    from planvec.cli import owner

    with check_must_run():  # exit 2 (handle_errors) when the check cannot run
        settings = settings_from(**opts)
        routed = owner.routed_check(settings, paths, sample)
        if routed is not None:
            _render_routed_check(routed, markdown_file, json_)
            return
        from planvec.checks.verify import CheckOptions, check_index
        from planvec.index import open_index

        def run() -> Any:
            with (
                open_index(settings) as index,
                _read_cache(settings.cache_dir) as cache,
                activity(not json_, "checking") as update,
            ):
                source = _source(index, paths, settings)
                options = CheckOptions(vector_sample=sample, cache=cache)
                return check_index(index, source, options, on_plan=lambda p: update(p.path))

        report = owner.wait_if_held(run)
    _write_markdown(markdown_file, report.to_markdown())
    if json_:
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown(max_per_kind=10), nl=False)
    if report.error:
        err(f"Error: {report.error}")
    sys.exit(report.exit_code)


def _render_routed_check(answer: dict[str, Any], markdown_file: Path | None, json_: bool) -> None:
    """Print a check report answered by the index owner exactly as a local one."""
    report = {k: v for k, v in answer.items() if k not in _RENDERED}
    _write_markdown(markdown_file, answer["markdown"])
    if json_:
        echo_json(report)
    else:
        click.echo(answer["markdown_short"], nl=False)
    if answer.get("error"):
        err(f"Error: {answer['error']}")
    sys.exit(int(answer["exit_code"]))


_RENDERED = ("markdown", "markdown_short")


validate_vectors_command = alias_of(
    check_command, "validate-vectors", "planvec validate-vectors docs/plans --json"
)


def _source(index: Index, paths: tuple[Path, ...], settings: Settings) -> Source | None:
    """The plans of ``paths`` named relative to the index root, or ``None`` without paths.

    A manager's collection (``--collection planvec_dependencies``) is compared with what
    that manager reads under ``paths`` (docs/managers.md), not with Markdown plans.
    """
    if not paths:
        return None
    from planvec.managers.base import ManagerInputs
    from planvec.managers.registry import all_managers

    for manager in all_managers():
        if manager.collection == settings.collection:
            return manager.source(ManagerInputs(paths=tuple(paths)))
    return index.source(paths, root=settings.root, config_file=settings.config_file)


@click.command("repair", context_settings=CONTEXT_SETTINGS)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@store_options
@embedder_option
@click.option("--apply", is_flag=True, help="Write the fixes (default: dry run, print the plan).")
@click.option("--wait", is_flag=True, help="Queue behind another writer instead of failing.")
@json_option
@handle_errors
def repair_command(
    paths: tuple[Path, ...], apply: bool, wait: bool, json_: bool, **opts: Any
) -> None:
    """Fix exactly what `planvec check` finds, without a full rebuild.

    Re-embeds missing and stale tasks, rewrites stale payloads, deletes orphans and
    duplicates; only a collection of the wrong model/dimension is rebuilt. Without --apply
    it prints what it would do and writes nothing. With --apply it re-checks afterwards:
    exit code 0 when the index is now consistent, 1 when problems remain.

    \b
    Example:
      planvec repair docs/plans            # dry run
      planvec repair docs/plans --apply
    """
    from planvec.checks.repair import repair_index
    from planvec.index import open_index

    with check_must_run():
        settings = settings_from(**opts)
        with (
            open_index(settings, write=apply, wait=wait) as index,
            activity(not json_, "repair") as update,
        ):
            source = _source(index, paths, settings)
            result = repair_index(
                index, source, apply=apply, batch_size=settings.batch_size, progress=update
            )
    if json_:
        echo_json(result.to_dict())
        sys.exit(result.exit_code)
    plan = result.plan
    if plan.empty and not plan.unrepairable:
        click.echo("Nothing to repair: the index is consistent.")
        sys.exit(0)
    if plan.rebuild:
        click.echo(f"rebuild the collection: {'; '.join(plan.rebuild)}")
    click.echo(f"re-embed and upsert: {len(plan.upsert)}")
    click.echo(f"rewrite payload:     {len(plan.payload)}")
    click.echo(f"delete points:       {len(plan.delete)}")
    if plan.delete_plans:
        click.echo(f"delete plans:        {', '.join(plan.delete_plans[:10])}")
    for finding in plan.unrepairable[:20]:
        err(f"cannot repair: {finding.kind}: {finding.message}")
    if not result.applied:
        click.echo("Dry run: nothing was written. Apply with --apply.")
        sys.exit(result.exit_code)
    after = result.after
    if after is not None:
        click.echo(
            f"Repaired in {result.seconds:.1f}s: {result.summary()}. "
            f"Check after repair: {after.status}."
        )
        if after.exit_code:
            click.echo(after.to_markdown(max_per_kind=5), nl=False)
    sys.exit(result.exit_code)


@click.command("quality", context_settings=CONTEXT_SETTINGS)
@store_options
@embedder_option
@_file_option("--markdown", "markdown_file", "Also write a Markdown report to this file.")
@_file_option(
    "--baseline", "baseline_file", "Compare with this saved baseline; a drop is an alert (exit 1)."
)
@_file_option("--save-baseline", "save_file", "Save the metrics as a baseline to this file.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Largest acceptable drop of a metric versus the baseline.",
)
@click.option(
    "--sample",
    type=click.IntRange(1, 1_000_000),
    default=500,
    show_default=True,
    help="Tasks sampled for self-retrieval and near-duplicates.",
)
@click.option(
    "--dup-threshold",
    type=click.FloatRange(0, 1),
    default=0.95,
    show_default=True,
    help="Cosine at or above which tasks of different plans are near-duplicates.",
)
@json_option
@handle_errors
def quality_command(
    markdown_file: Path | None,
    baseline_file: Path | None,
    save_file: Path | None,
    threshold: float,
    sample: int,
    dup_threshold: float,
    json_: bool,
    **opts: Any,
) -> None:
    """Measure embedding quality on the indexed tasks; compare with a baseline.

    Self-retrieval (each sampled task's text finds it first), paraphrase probes shipped
    with planvec (FR/EN), vector norm/dimension statistics and near-duplicate tasks across
    plans. With --baseline, a metric dropping by more than --threshold is an alert: a
    message and exit code 1. Exit code 2 when the index cannot be read.

    \b
    Example:
      planvec quality --save-baseline quality-baseline.json
      planvec quality --baseline quality-baseline.json --markdown quality.md
    """
    from planvec.checks.baseline import compare_baseline, load_baseline, save_baseline
    from planvec.checks.quality import QualityOptions, measure_quality
    from planvec.cli import owner
    from planvec.index import open_index

    with check_must_run():
        settings = settings_from(**opts)
        baseline = load_baseline(baseline_file) if baseline_file else None
        options = QualityOptions(
            sample=sample, near_duplicate_threshold=dup_threshold, alert_drop=threshold
        )
        report = owner.routed_quality(settings, sample, dup_threshold)
        if report is None:

            def run() -> Any:
                with open_index(settings) as index:
                    return measure_quality(index, options)

            report = owner.wait_if_held(run)
    if baseline is not None:
        compare_baseline(report, baseline, threshold)
    if save_file is not None:
        save_baseline(report, save_file)
    _write_markdown(markdown_file, report.to_markdown())
    if json_:
        echo_json(report.to_dict())
    else:
        click.echo(report.to_markdown(), nl=False)
    for alert in report.alerts:
        err(f"ALERT: {alert}")
    sys.exit(report.exit_code)


verify_quality_command = alias_of(
    quality_command, "verify-quality", "planvec verify-quality --baseline b.json"
)


COMMANDS = [
    check_command,
    validate_vectors_command,
    repair_command,
    quality_command,
    verify_quality_command,
]
