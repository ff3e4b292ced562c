"""The schema manager: PostgreSQL schemas by introspection -> ``planvec_schemas``.

One ``Plan`` per database schema (``postgres/<database>/<schema>``), one ``Task`` per table
(views, materialized views, foreign and partitioned tables too) and one per column, read
from ``pg_catalog`` in four queries: relations, columns (type, nullability, default,
identity/generated, comment), constraints (primary keys, unique, foreign keys) and
indexes. Column text reads like
``column public.orders.customer_id integer NOT NULL -> public.customers.id: who ordered``.

The DSN's password never appears: the connection goes through the catalogue's helper
(``planvec.catalogue.db.connect``: errors scrubbed with ``planvec.redact``), plan names use
the database name only, and comments and defaults pass ``planvec.text.secrets.scan_text``
(a ``DEFAULT 'hunter2...'`` is data someone typed). The schema is read once, in
``source()``, before the index is touched: an unreachable database fails the manager without
writing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planvec.catalogue import db
from planvec.errors import ManagerNotApplicable
from planvec.managers.base import Finding, ManagerInputs
from planvec.managers.items import Item, item_task
from planvec.records import Plan, SourceFailure, Task, content_hash, stable_json
from planvec.redact import redact_dsn
from planvec.text.secrets import SECRETS_RULES_VERSION, scan_text

if TYPE_CHECKING:
    from planvec.index import Index
    from planvec.sync_report import SyncReport

log = logging.getLogger(__name__)

KIND = "schema"
COLLECTION = "planvec_schemas"
#: Bump when records change meaning: folded into every schema's hash.
SCHEMA_RECIPE = "schema-records-1"

_RELATION_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
}
_USER_SCHEMAS = """
    n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
    AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
"""
_RELATIONS = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind::text, obj_description(c.oid, 'pg_class')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND {_USER_SCHEMAS}
ORDER BY n.nspname, c.relname
"""
_COLUMNS = f"""
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum),
       a.attidentity::text, a.attgenerated::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND {_USER_SCHEMAS}
ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS = f"""
SELECT con.conrelid, con.contype::text, con.conname,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.pos)::text[],
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.pos)::text[]
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.contype IN ('p', 'u', 'f') AND {_USER_SCHEMAS}
ORDER BY con.conrelid, con.contype, con.conname
"""
_INDEXES = f"""
SELECT i.indrelid, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisprimary AND {_USER_SCHEMAS}
ORDER BY i.indrelid, 2
"""


@dataclass
class Column:
    name: str
    data_type: str
    not_null: bool
    default: str | None
    comment: str | None
    identity: str
    generated: str
    references: str | None = None


@dataclass
class Relation:
    schema: str
    name: str
    kind: str
    comment: str | None
    columns: list[Column] = field(default_factory=list)
    primary_key: list[str] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)


def _clean(text: str | None) -> str | None:
    """Comments and defaults without secrets (they are free text someone typed)."""
    return None if text is None else scan_text(text).text


def introspect(dsn: str, schemas: Sequence[str] | None = None) -> tuple[str, list[Relation]]:
    """The database name and its user relations (with columns, keys and indexes).

    Raises:
        CatalogueError: cannot connect or query (the message has the password masked).
    """
    params = {"schemas": list(schemas) if schemas else None}
    with db.connect(dsn) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        database = str(row[0]) if row else "postgres"
        relations: dict[int, Relation] = {}
        for oid, schema, name, kind, comment in conn.execute(_RELATIONS, params):
            relations[oid] = Relation(schema, name, _RELATION_KINDS[kind], _clean(comment))
        for oid, name, dtype, not_null, default, comment, ident, gen in conn.execute(
            _COLUMNS, params
        ):
            if oid in relations:
                column = Column(name, dtype, not_null, _clean(default), _clean(comment), ident, gen)
                relations[oid].columns.append(column)
        for oid, ctype, _name, cols, ref_schema, ref_table, ref_cols in conn.execute(
            _CONSTRAINTS, params
        ):
            if oid in relations:
                _add_constraint(relations[oid], ctype, cols, ref_schema, ref_table, ref_cols)
        for oid, definition in conn.execute(_INDEXES, params):
            if oid in relations:
                relations[oid].indexes.append(definition)
    log.debug("introspected %d relations of %s", len(relations), redact_dsn(dsn))
    return database, list(relations.values())


def _add_constraint(
    rel: Relation,
    ctype: str,
    cols: list[str],
    ref_schema: str | None,
    ref_table: str | None,
    ref_cols: list[str],
) -> None:
    if ctype == "p":
        rel.primary_key = list(cols)
    elif ctype == "u":
        rel.unique.append(list(cols))
    elif ctype == "f":
        target = f"{ref_schema}.{ref_table}"
        rel.foreign_keys.append(f"({', '.join(cols)}) -> {target}({', '.join(ref_cols)})")
        by_name = {c.name: c for c in rel.columns}
        for mine, theirs in zip(cols, ref_cols, strict=False):
            if mine in by_name and by_name[mine].references is None:
                by_name[mine].references = f"{target}.{theirs}"


def table_text(rel: Relation) -> str:
    """``table public.orders (4 columns, primary key (id), ...): comment``."""
    facts = [f"{len(rel.columns)} columns"]
    if rel.primary_key:
        facts.append(f"primary key ({', '.join(rel.primary_key)})")
    facts.extend(f"foreign key {fk}" for fk in rel.foreign_keys)
    facts.extend(f"unique ({', '.join(u)})" for u in rel.unique)
    text = f"{rel.kind} {rel.schema}.{rel.name} ({', '.join(facts)})"
    return f"{text}: {rel.comment}" if rel.comment else text


def column_text(rel: Relation, col: Column) -> str:
    """``column public.orders.customer_id integer NOT NULL -> public.customers.id: comment``."""
    parts = [f"column {rel.schema}.{rel.name}.{col.name} {col.data_type}"]
    if col.not_null:
        parts.append("NOT NULL")
    if col.identity:
        parts.append("GENERATED " + ("ALWAYS" if col.identity == "a" else "BY DEFAULT"))
        parts.append("AS IDENTITY")
    elif col.default is not None:
        parts.append(("GENERATED ALWAYS AS " if col.generated else "DEFAULT ") + col.default)
    if col.name in rel.primary_key:
        parts.append("PRIMARY KEY")
    if col.references:
        parts.append(f"-> {col.references}")
    text = " ".join(parts)
    return f"{text}: {col.comment}" if col.comment else text


def _task(plan: str, key: str, text: str, depth: int, parent: str | None, **meta: Any) -> Task:
    section = (meta["schema"], meta["table"]) if depth else (meta["schema"],)
    item = Item(key, 1, text, section, meta, depth=depth, parent_id=parent)
    return item_task(KIND, plan, item)


def relation_tasks(plan: str, database: str, rel: Relation) -> list[Task]:
    """One record for the relation, then one per column in column order."""
    common = {"database": database, "schema": rel.schema, "table": rel.name}
    table = _task(
        plan,
        rel.name,
        table_text(rel),
        0,
        None,
        object=rel.kind,
        comment=rel.comment,
        primary_key=rel.primary_key,
        foreign_keys=rel.foreign_keys,
        indexes=rel.indexes,
        columns=[c.name for c in rel.columns],
        **common,
    )
    tasks = [table]
    for col in rel.columns:
        tasks.append(
            _task(
                plan,
                f"{rel.name}.{col.name}",
                column_text(rel, col),
                1,
                table.id,
                object="column",
                column=col.name,
                data_type=col.data_type,
                nullable=not col.not_null,
                default=col.default,
                comment=col.comment,
                primary_key=col.name in rel.primary_key,
                references=col.references,
                **common,
            )
        )
    return tasks


def schema_plans(database: str, relations: Sequence[Relation]) -> list[Plan]:
    """One plan per schema, named ``postgres/<database>/<schema>``."""
    by_schema: dict[str, list[Relation]] = {}
    for rel in relations:
        by_schema.setdefault(rel.schema, []).append(rel)
    plans = []
    for schema in sorted(by_schema):
        name = f"postgres/{database}/{schema}"
        tasks = tuple(t for rel in by_schema[schema] for t in relation_tasks(name, database, rel))
        digest = content_hash(
            SCHEMA_RECIPE, SECRETS_RULES_VERSION, stable_json([t.to_dict() for t in tasks])
        )
        plans.append(Plan(path=name, title=schema, version=None, tasks=tasks, file_hash=digest))
    return plans


class SchemaSource:
    """Introspected schemas as a ``planvec.sources.base.Source`` (read once, up front)."""

    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = list(plans)

    def iter_plans(self) -> Iterator[Plan | SourceFailure]:
        yield from self.plans


class SchemaManager:
    """PostgreSQL schemas -> ``planvec_schemas`` (kind ``schema``); see the module docstring.

    ``inputs.options["schemas"]``: restrict to these schema names (default: every schema
    but ``pg_catalog``, ``information_schema`` and the temporary/TOAST ones).
    """

    name = "schemas"
    kind = KIND
    collection = COLLECTION
    order = 30

    def source(self, inputs: ManagerInputs) -> SchemaSource:
        """Introspect the database now.

        Raises:
            ManagerNotApplicable: no DSN was given (a ``ConfigError``).
            CatalogueError: the database cannot be reached or read (password masked).
        """
        if not inputs.dsn:
            raise ManagerNotApplicable(
                "the schemas manager needs a PostgreSQL DSN (--dsn postgresql://user@host/db)"
            )
        schemas = inputs.options.get("schemas")
        database, relations = introspect(inputs.dsn, schemas)
        return SchemaSource(schema_plans(database, relations))

    def analyse(self, index: Index, report: SyncReport, inputs: ManagerInputs) -> list[Finding]:
        """Schema changes since the last run, as findings (added/removed/changed columns)."""
        changes = report.added + report.updated + report.deleted
        if not changes:
            return []
        return [
            Finding(
                self.name,
                "event",
                f"schema changed: {report.added} added, {report.updated} changed, "
                f"{report.deleted} removed item(s)",
                details={
                    "added": report.added,
                    "updated": report.updated,
                    "deleted": report.deleted,
                },
            )
        ]
