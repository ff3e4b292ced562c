"""Backups and migrations: portable archives, the legacy ``roadmap_tasks`` migration, and
switching an index to another embedding model (see docs/backup.md).

Importing this package is cheap; the store and the models load on first use.
"""

from planvec.backup.archive import Archive, read_archive
from planvec.backup.archive_format import ARCHIVE_VERSION
from planvec.backup.ops import (
    export_index,
    import_index,
    migrate_legacy_index,
    migrate_model_index,
)
from planvec.backup.transfer import ExportReport, ImportReport, export_collection, import_archive

__all__ = [
    "ARCHIVE_VERSION",
    "Archive",
    "ExportReport",
    "ImportReport",
    "export_collection",
    "export_index",
    "import_archive",
    "import_index",
    "migrate_legacy_index",
    "migrate_model_index",
    "read_archive",
]
