"""The planning catalogue: plans and tasks in PostgreSQL, with two-way task statuses.

``sync_catalogue(dsn, paths)`` keeps the tables ``planvec.plans``, ``planvec.tasks`` and
``planvec.sync_runs`` (and the progress views) in step with the Markdown plans, which stay
the source people edit; a status changed in the database is written back to the plan on
request, and a status changed on both sides is reported as a conflict. See docs/catalogue.md.
Needs the ``catalogue`` extra (psycopg 3).
"""

from __future__ import annotations

from planvec.catalogue.connector import sync_catalogue
from planvec.catalogue.db import connect, latest_version, migrate, schema_version
from planvec.catalogue.report import CatalogueReport, StatusChange, WriteBack
from planvec.redact import redact_dsn

__all__ = [
    "CatalogueReport",
    "StatusChange",
    "WriteBack",
    "connect",
    "latest_version",
    "migrate",
    "redact_dsn",
    "schema_version",
    "sync_catalogue",
]
