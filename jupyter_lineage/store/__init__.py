"""The SQLite lineage graph. Nothing outside this package reads or writes the database."""

from .db import Store, default_db_path, open_store
from .schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Store", "default_db_path", "open_store"]
