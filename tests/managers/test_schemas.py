"""The schemas manager against a real PostgreSQL 16 (pgserver, see tests/conftest.py).

One database per module holds a small shop schema (tables, a view, comments, defaults, an
identity column, primary/unique/foreign keys, an index); the DSN carries a password that
must never appear in records, payloads, logs or errors.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from planvec.embed.hashing import HashingEmbedder
from planvec.errors import CatalogueError, ConfigError
from planvec.managers.base import ManagerInputs
from planvec.managers.schemas import SchemaManager
from planvec.records import Plan, Task
from planvec.settings import load_settings
from planvec.wiring import open_index

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "project"
DSN_PASSWORD = "Pg-Planted-Pw-31"
DEFAULT_SECRET = "ghp_Z8kR2mWq9ZxV4bN7cL1pD5fH3jS6gA0yE2uT"

SHOP = f"""
CREATE SCHEMA shop;
COMMENT ON SCHEMA shop IS 'the online shop';
CREATE TABLE shop.customers (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    api_token text DEFAULT '{DEFAULT_SECRET}'
);
COMMENT ON TABLE shop.customers IS 'People who buy from the shop';
COMMENT ON COLUMN shop.customers.email IS 'login and contact address';
CREATE TABLE shop.orders (
    id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES shop.customers(id),
    total numeric(10, 2) NOT NULL DEFAULT 0,
    status varchar(20) NOT NULL DEFAULT 'new'
);
COMMENT ON COLUMN shop.orders.customer_id IS 'who placed the order';
CREATE INDEX orders_status_idx ON shop.orders (status);
CREATE VIEW shop.open_orders AS SELECT id, total FROM shop.orders WHERE status = 'new';
CREATE TABLE public.audit_log (id bigint PRIMARY KEY, message text);
CREATE ROLE reader_{{suffix}} LOGIN PASSWORD '{DSN_PASSWORD}';
"""


@contextmanager
def _database(pg_server: Any, sql: str) -> Iterator[str]:
    """A fresh database of the session server holding ``sql``; dropped afterwards."""
    import psycopg

    name = "schemas_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(pg_server.get_uri(name), autocommit=True) as conn:
            conn.execute(sql.encode())
        yield str(pg_server.get_uri(name))
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def shop_dsn(pg_server: Any) -> Iterator[str]:
    """A database holding the shop schema; the DSN names a user with a password."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    suffix = uuid.uuid4().hex[:8]
    with _database(pg_server, SHOP.replace("{suffix}", suffix)) as uri:
        params = conninfo_to_dict(uri)
        params.update(user=f"reader_{suffix}", password=DSN_PASSWORD)
        yield make_conninfo(**params)
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE reader_{suffix}")


def _tasks(dsn: str, **options: Any) -> dict[str, Task]:
    source = SchemaManager().source(ManagerInputs(dsn=dsn, options=options))
    plans = [p for p in source.iter_plans() if isinstance(p, Plan)]
    return {f"{t.section[0]}:{t.key}": t for p in plans for t in p.tasks}


def test_tables_and_columns_become_readable_records(shop_dsn: str) -> None:
    tasks = _tasks(shop_dsn)
    orders = tasks["shop:orders"]
    assert orders.text == (
        "table shop.orders (4 columns, primary key (id), "
        "foreign key (customer_id) -> shop.customers(id))"
    )
    assert orders.plan.startswith("postgres/schemas_") and orders.plan.endswith("/shop")
    assert orders.metadata["indexes"] == [
        "CREATE INDEX orders_status_idx ON shop.orders USING btree (status)"
    ]
    customer_id = tasks["shop:orders.customer_id"]
    assert customer_id.text == (
        "column shop.orders.customer_id integer NOT NULL -> shop.customers.id: who placed the order"
    )
    assert customer_id.parent_id == orders.id and customer_id.depth == 1
    assert customer_id.metadata["references"] == "shop.customers.id"
    assert tasks["shop:customers"].text.endswith(": People who buy from the shop")
    assert "unique (email)" in tasks["shop:customers"].text
    assert tasks["shop:customers.id"].text == (
        "column shop.customers.id integer NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    assert tasks["shop:orders.status"].metadata["default"] == "'new'::character varying"
    assert tasks["shop:open_orders"].metadata["object"] == "view"
    assert "public:audit_log" in tasks
    assert all(t.metadata["kind"] == "schema" for t in tasks.values())


def test_schema_filter_and_secrets_in_defaults(shop_dsn: str) -> None:
    tasks = _tasks(shop_dsn, schemas=["shop"])
    assert not any(key.startswith("public:") for key in tasks)
    token = tasks["shop:customers.api_token"]
    assert DEFAULT_SECRET not in token.text and "[REDACTED:github-token]" in token.text


def test_sync_search_and_no_password_anywhere(
    shop_dsn: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = load_settings(
        env={},
        index_dir=tmp_path / "idx",
        embedder="hashing",
        cache_dir=tmp_path / "cache",
        collection="planvec_schemas",
    )
    manager = SchemaManager()
    inputs = ManagerInputs(dsn=shop_dsn)
    with open_index(settings, write=True, embedder=HashingEmbedder()) as index:
        report = index.sync(manager.source(inputs))
        hits = index.search("customer email address", limit=3)
        points = list(index.admin.scroll(index.collection, with_payload=True))
        assert manager.analyse(index, report, inputs)[0].kind == "event"
        again = index.sync(manager.source(inputs))
        assert manager.analyse(index, again, inputs) == []
    assert report.added == len(points) == 17  # 4 relations + 13 columns
    assert again.unchanged == report.added
    assert any(h.key == "customers.email" for h in hits)
    blob = json.dumps([p.payload for p in points]) + json.dumps(report.to_dict())
    blob += "\n".join(r.getMessage() for r in caplog.records)
    assert DSN_PASSWORD not in blob and DEFAULT_SECRET not in blob


def test_unreachable_database_fails_without_the_password(shop_dsn: str) -> None:
    bad = shop_dsn.replace("dbname=", "dbname=missing_")
    with pytest.raises(CatalogueError) as caught:
        SchemaManager().source(ManagerInputs(dsn=bad))
    assert DSN_PASSWORD not in str(caught.value) and "***" in str(caught.value)


def test_manager_needs_a_dsn() -> None:
    with pytest.raises(ConfigError, match="DSN"):
        SchemaManager().source(ManagerInputs(paths=(Path("."),)))


def test_the_example_project_schema(pg_server: Any) -> None:
    """examples/project/db/schema.sql (the demo's database) introspects cleanly."""
    sql = (EXAMPLES / "db" / "schema.sql").read_text(encoding="utf-8")
    with _database(pg_server, sql) as dsn:
        tasks = _tasks(dsn)
    assert {k for k in tasks if ":" in k and "." not in k} == {
        "orders:backups",
        "orders:customers",
        "orders:order_items",
        "orders:orders",
        "orders:products",
    }
    assert tasks["orders:order_items"].metadata["primary_key"] == ["order_id", "product_id"]
    assert len(tasks["orders:order_items"].metadata["foreign_keys"]) == 2
    assert tasks["orders:order_items.order_id"].metadata["references"] == "orders.orders.id"
