"""Shared CLI plumbing: option decorators, settings from flags/env, error rendering.

Commands stay thin: parse options, call one library function, render the result.
JSON goes to stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from planvec.errors import PlanvecError
from planvec.redact import redact_text
from planvec.settings import Settings, known_embedders, load_settings

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def json_option(func: F) -> F:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "json_", is_flag=True, help="Print JSON on stdout.")(func)


def store_options(func: F) -> F:
    """``--index``, ``--qdrant-url``, ``--collection``, ``--config``: where the index lives."""
    options = [
        click.option(
            "--index",
            "index_dir",
            type=click.Path(path_type=Path, file_okay=False),
            default=None,
            help="Directory of the embedded index (default .planvec). Env PLANVEC_INDEX_DIR.",
        ),
        click.option(
            "--qdrant-url",
            default=None,
            help="Use a Qdrant server/cluster (http(s)://...) or memory://. "
            "API key from PLANVEC_API_KEY or QDRANT_API_KEY. Env PLANVEC_QDRANT_URL.",
        ),
        click.option(
            "--collection",
            default=None,
            help="Collection name (default planvec_tasks). Env PLANVEC_COLLECTION.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True, max=86400),
            default=None,
            metavar="SECONDS",
            help="Longest wait for the store, retries included (default 30). Env PLANVEC_TIMEOUT.",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(path_type=Path, dir_okay=False, exists=True),
            default=None,
            help="TOML config file (default ./planvec.toml). Env PLANVEC_CONFIG.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def embedder_option(func: F) -> F:
    """``--embedder`` and ``--offline``: which model embeds text."""
    func = click.option(
        "--offline",
        is_flag=True,
        default=False,
        help="Use the deterministic hashing embedder (no model; for tests and quick runs).",
    )(func)
    return click.option(
        "--embedder",
        type=click.Choice(known_embedders()),
        default=None,
        help="Embedding backend (default auto: ONNX Runtime fp32). Env PLANVEC_EMBEDDER.",
    )(func)


def settings_from(
    index_dir: Path | None = None,
    qdrant_url: str | None = None,
    collection: str | None = None,
    config_file: Path | None = None,
    embedder: str | None = None,
    offline: bool = False,
    timeout: float | None = None,
    **extra: Any,
) -> Settings:
    """Settings for this invocation: flags over env over config file over defaults."""
    return load_settings(
        config_file=config_file,
        index_dir=index_dir,
        qdrant_url=qdrant_url,
        collection=collection,
        timeout=timeout,
        embedder="hashing" if offline else embedder,
        **extra,
    )


def alias_of(command: click.Command, name: str, example: str) -> click.Command:
    """A command ``name`` that runs ``command`` (same options), e.g. legacy script names."""
    return click.Command(
        name,
        context_settings=CONTEXT_SETTINGS,
        callback=command.callback,
        params=command.params,
        help=f"Alias of `planvec {command.name}`.\n\n\b\nExample:\n  {example}",
    )


def echo_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=None, default=str))


def err(message: str) -> None:
    """Print a message on stderr."""
    click.echo(message, err=True)


def fail(message: str, exit_code: int = 2) -> NoReturn:
    """Print ``Error: message`` (one line, credentials redacted) on stderr and exit."""
    first = " ".join(redact_text(str(message)).split()) or "unknown error"
    err(f"Error: {first}")
    sys.exit(exit_code)


def os_error_message(exc: OSError) -> str:
    """One line for an OS error met outside the library's own translations."""
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc)
    return f"cannot access{where}: {reason}; check the path and its permissions"


def handle_errors(func: F) -> F:
    """Render every failure as one ``Error: ...`` line on stderr with an exit code.

    ``PlanvecError`` keeps its own exit code; an OS error (a path that cannot be written)
    exits 2; anything else is a bug, reported in one line (exit 2) with the traceback
    only in the logs at ``-vv``. Credentials in URLs are redacted from every message.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PlanvecError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            err("Interrupted: nothing half-written is reported as done; rerun to resume.")
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)
        except OSError as exc:
            fail(os_error_message(exc))
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:
            logging.getLogger("planvec.cli").debug("unexpected error", exc_info=True)
            fail(
                f"unexpected {type(exc).__name__}: {exc} (a planvec bug: please report it;"
                " rerun with -vv for details)"
            )

    return wrapper  # type: ignore[return-value]


def verbosity() -> int:
    """The ``-v`` count given to the root ``planvec`` command (0 when run without it)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return int(obj.get("verbose", 0)) if isinstance(obj, dict) else 0


#: Most warning lines printed by one command (the rest are counted).
MAX_WARNINGS = 200


def warning_lines(warnings: Iterable[Any], *, verbose: bool) -> list[str]:
    """The warnings to print, repeated fence repairs summarised per file unless ``verbose``.

    A formatter that rewrote closing fences leaves dozens of identical repairs per plan;
    one line per file ("12 code fences repaired") keeps the rare real warning visible.
    """
    items = list(warnings)
    if verbose:
        lines = [str(w) for w in items]
    else:
        fences: dict[str, int] = {}
        lines = []
        for warning in items:
            plan, message = getattr(warning, "plan", None), getattr(warning, "message", "")
            if plan is not None and "fence" in message:
                if plan not in fences:
                    lines.append(plan)  # placeholder, replaced below, keeps the file order
                fences[plan] = fences.get(plan, 0) + 1
            else:
                lines.append(str(warning))
        lines = [
            f"{line}: {fences[line]} code fence(s) repaired (-v for details)"
            if line in fences
            else line
            for line in lines
        ]
    if len(lines) > MAX_WARNINGS:
        more = len(lines) - MAX_WARNINGS
        lines = [*lines[:MAX_WARNINGS], f"... and {more} more warnings"]
    return lines


@contextlib.contextmanager
def activity(enabled: bool, label: str) -> Iterator[Callable[[str], None]]:
    """A spinner with a live detail line on stderr (TTY only) for long operations.

    Yields ``update(detail)``; a no-op when disabled, when stderr is not a terminal, or
    with --json (machines read stdout; the spinner never touches it).
    """
    if not enabled or not sys.stderr.isatty():
        yield lambda _detail: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(label) as status:

        def update(detail: str) -> None:
            status.update(f"{label} {detail}")

        yield update
