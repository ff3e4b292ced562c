"""From a parsed ``Task`` to what is stored: the payload, the text that is embedded, hashes.

Two hashes drive sync:

* ``embed_hash``: hash of the exact text given to the embedder (and of the recipe version).
  When it changes the task is re-embedded (the cache may still have the vector).
* ``lexical_hash``: hash of what the sparse (lexical) vector is built from (analyzer version,
  text, section path). When it changes the sparse vector is rebuilt (the dense vector comes
  from the cache).
* ``payload_hash``: hash of the payload minus volatile fields (``last_updated``). When only it
  changes, the payload is rewritten and the vectors left alone (a status flip embeds nothing).

The payload carries every field of ``planvec parse --json`` plus the fields of the legacy
``roadmap_tasks`` payload (``task_id``, ``description``, ``status``, ``section``, ``parent``,
``priority``, ``estimate``, ``mvp``, ``category``, ``file_path``, ``last_updated``) so that old
consumers keep working.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from planvec.records import ParseWarning, Plan, Task, content_hash, stable_json
from planvec.text.clean import clean_task_text

#: Bump when the payload layout changes (a migration rewrites payloads).
PAYLOAD_SCHEMA = 1
#: Bump when ``embedding_text`` changes: every task is re-embedded (cache keys change).
#: ``en-gloss-1``: numbering stripped, then rendered in pseudo-English with the built-in
#: FR/EN glossary (``planvec.text.glossary``); see docs/benchmarks.md, "Search quality".
EMBED_RECIPE = "en-gloss-1"

#: Payload fields that do not take part in ``payload_hash``.
VOLATILE_FIELDS = frozenset({"last_updated", "payload_hash"})

#: Fields with payload indexes: only those that sync and search filter on. Each index costs
#: ~0.2 s to create on Edge and memory per point; unindexed fields still filter (by scan).
#: ``content_hash`` lets search list every copy of a collapsed text (``also_in``).
KEYWORD_FIELDS = ("plan", "status", "priority", "tags", "content_hash")
INTEGER_FIELDS: tuple[str, ...] = ()
BOOL_FIELDS = ("mvp",)
TEXT_FIELDS = ("section_path",)

#: Fields every task point must have (checked by ``planvec check``).
REQUIRED_FIELDS = (
    "kind",
    "plan",
    "line",
    "text",
    "status",
    "checked",
    "section",
    "embed_hash",
    "payload_hash",
    "content_hash",
)


def embedding_text_of(text: str) -> str:
    """The text given to the embedding model for a task whose text is ``text``.

    The model (all-MiniLM-L6-v2) is English-only and most plans are French: the task text
    without its numbering, rendered word by word in English by the built-in glossary,
    embeds far closer to what users search for (dense recall@10 on the dev queries 0.45 →
    0.74, with queries rendered the same way, see ``planvec.search``). Deterministic, so
    ``planvec check`` can recompute it from the stored payload.
    """
    from planvec.text.glossary import default_glossary

    clean = clean_task_text(text)
    return default_glossary().to_english(clean) or clean


def query_embedding_text(query: str) -> str:
    """The text given to the embedding model for a search query: its English rendering.

    Queries are rendered like tasks (``embedding_text_of``) so that both sides meet in
    the model's language; English queries come back nearly unchanged.
    """
    from planvec.text.glossary import default_glossary

    return default_glossary().to_english(query) or query


def embedding_text(task: Task) -> str:
    """The text given to the embedding model for ``task`` (see ``embedding_text_of``)."""
    return embedding_text_of(task.text)


def text_embed_hash(text: str, model_family: str) -> str:
    """Key of the vector of a task whose text is ``text`` (also the embedding-cache key).

    It hashes what determines the embedded text (recipe, glossary version, raw task text)
    rather than the rendering itself, so a no-op sync renders nothing: the rendering
    (``embedding_text_of``) is a pure function of these inputs.
    """
    from planvec.text.glossary import default_glossary

    return content_hash(EMBED_RECIPE, default_glossary().version, model_family, text)


def embed_hash(task: Task, model_family: str) -> str:
    """Key of the task's vector: changes when the embedded text or the model changes."""
    return text_embed_hash(task.text, model_family)


def lexical_text(task: Task) -> str:
    """The text the sparse (lexical) vector is built from: the task text as written.

    Independent of ``embedding_text`` on purpose: numbering (``1.2.3``) and identifiers
    stay searchable lexically whatever the embedding recipe does.
    """
    return task.text


def lexical_hash(task: Task, lexical_version: str | None) -> str | None:
    """Key of the task's sparse vector, or ``None`` without a lexical encoder."""
    if lexical_version is None:
        return None
    return content_hash(lexical_version, lexical_text(task), *task.section)


def task_payload(task: Task, *, model_family: str, lexical_version: str | None) -> dict[str, Any]:
    """The full payload stored with ``task`` (without ``last_updated``/``payload_hash``)."""
    meta = dict(task.metadata)
    payload: dict[str, Any] = {
        "kind": "task",
        "plan": task.plan,
        "line": task.line,
        "checked": task.checked,
        "status": task.status,
        "text": task.text,
        "depth": task.depth,
        "parent_line": task.parent_line,
        "section": list(task.section),
        "section_path": " > ".join(task.section),
        "key": task.key,
        "parent_id": task.parent_id,
        "content_hash": task.content_hash,
        "metadata": meta,
        "priority": meta.get("priority"),
        "estimate": meta.get("estimate"),
        "mvp": bool(meta.get("mvp", False)),
        "tags": list(meta.get("tags", [])),
        # legacy roadmap_tasks fields
        "task_id": task.key or task.id,
        "description": task.text,
        "parent": task.parent_id,
        "category": task.section[0] if task.section else None,
        "file_path": task.plan,
        # how the vectors were made
        "embed_hash": embed_hash(task, model_family),
        "lexical_version": lexical_version,
        "lexical_hash": lexical_hash(task, lexical_version),
        "schema": PAYLOAD_SCHEMA,
    }
    return payload


def payload_hash(payload: dict[str, Any]) -> str:
    """Hash of the payload without its volatile fields."""
    stable = {k: v for k, v in payload.items() if k not in VOLATILE_FIELDS}
    return content_hash(stable_json(stable))


def finalize_payload(payload: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """Add ``payload_hash`` and ``last_updated`` right before the payload is written."""
    out = dict(payload)
    if "payload_hash" not in out:  # sync computes it once while diffing
        out["payload_hash"] = payload_hash(payload)
    out["last_updated"] = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return out


def indexable_tasks(plan: Plan) -> tuple[Task, ...]:
    """The tasks of ``plan`` that become points: those with some text.

    A checkbox with nothing (or only whitespace) after it is a typo or a placeholder: as a
    point it would be a blank search hit, so sync, check and repair all leave it out.
    """
    return tuple(task for task in plan.tasks if task.text.strip())


def blank_task_warnings(plan: Plan) -> list[ParseWarning]:
    """One warning per task of ``plan`` that has no text (and is therefore not indexed)."""
    return [
        ParseWarning(plan.path, task.line, "task has no text; not indexed")
        for task in plan.tasks
        if not task.text.strip()
    ]
