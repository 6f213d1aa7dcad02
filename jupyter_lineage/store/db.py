"""Opening the lineage database: location, permissions, WAL, schema checks, short transactions."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import SchemaTooNewError, StoreError, StoreMissingError
from .schema import MIGRATIONS, SCHEMA_VERSION

ENV_DB = "JUPYTER_LINEAGE_DB"
BUSY_TIMEOUT_MS = 30_000


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def default_db_path(notebook: str | os.PathLike[str] | None = None, db: str | None = None) -> Path:
    """``--db`` > ``$JUPYTER_LINEAGE_DB`` > ``.lineage/lineage.db`` at the git root (else the folder)."""
    if db:
        return Path(db).expanduser().absolute()
    env = os.environ.get(ENV_DB)
    if env:
        return Path(env).expanduser().absolute()
    start = Path(notebook).expanduser().absolute().parent if notebook else Path.cwd()
    root = _git_root(start) or start
    return root / ".lineage" / "lineage.db"


def _process_start(pid: int) -> str | None:
    """The kernel's start tick, so a recycled pid is not mistaken for a live run."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rindex(b")") + 2 :].split()[19].decode()
    except (OSError, ValueError, IndexError):
        return None


def _pid_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return start is None or _process_start(pid) in (None, start)


def process_identity() -> dict[str, Any]:
    pid = os.getpid()
    try:
        user = getpass.getuser()
    except Exception:
        user = None
    return {
        "pid": pid,
        "pid_start": _process_start(pid),
        "host": socket.gethostname(),
        "user": user,
    }


class Store:
    """A connection to one lineage database file.

    All writes go through :meth:`write`, one short ``BEGIN IMMEDIATE`` transaction each, so
    several kernels and parallel runs can share a file without losing a record.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, readonly: bool = False
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.readonly = readonly
        self._temp: set[str] = set()  # TEMP objects made on this connection
        if readonly:
            self._open_readonly()
            return
        if not self.path.exists():
            if not create:
                raise StoreMissingError(
                    f"No lineage database at {self.path}. Run a notebook with "
                    "`%load_ext jupyter_lineage` first, or pass --db PATH.",
                    str(self.path),
                )
            self._create_file()
        elif self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a lineage database; pass --db FILE.")
        try:
            conn = sqlite3.connect(
                str(self.path),
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot open the lineage database {self.path}: {exc}.", str(self.path)
            )
        self.conn = conn
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._explain(exc) from None
        except Exception:
            conn.close()
            raise

    # -- opening -------------------------------------------------------------------------------
    def _open_readonly(self) -> None:
        """For the server: never creates, migrates or writes anything."""
        if not self.path.is_file():
            raise StoreMissingError(
                f"No lineage database at {self.path}. Run `%load_ext jupyter_lineage` in a "
                "notebook to start tracking.",
                str(self.path),
            )
        try:
            self.conn = sqlite3.connect(
                f"file:{self.path}?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._check_version()
            if self.version < SCHEMA_VERSION:
                raise StoreError(
                    f"The lineage database {self.path} was written by an older jupyter-lineage; "
                    "run `jupyter lineage runs` once to upgrade it.",
                    str(self.path),
                )
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from None

    def _create_file(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the lineage database {self.path}: {exc.strerror}. "
                f"Pass --db (or set ${ENV_DB}) to a writable location.",
                str(self.path),
            )

    def _configure(self) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._check_version()  # before WAL: switching modes rewrites the header
        mode = self.conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode != "wal":
            with contextlib.suppress(sqlite3.OperationalError):
                self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint (and fsync) every ~16 MB of WAL rather than every 4 MB: per-cell commits
        # stay cheap; the WAL is folded back on close.
        self.conn.execute("PRAGMA wal_autocheckpoint = 4000")

    @functools.cached_property
    def db(self) -> Any:
        """sqlite-utils' view of the same connection (imported lazily: it pulls in pandas,
        which the per-kernel start-up must not pay for)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _check_version(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"The lineage database {self.path} was written by a newer jupyter-lineage "
                f"(schema {version}, this one knows {SCHEMA_VERSION}). Upgrade with "
                "`pip install -U jupyter-lineage`; the database was left untouched.",
                str(self.path),
            )

    def _migrate(self) -> None:
        if self.version == SCHEMA_VERSION:
            return
        with self.write() as conn:
            self._check_version()
            version = self.version  # another process may have migrated meanwhile
            for _name, migration in MIGRATIONS[version:]:
                migration(conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _explain(self, exc: sqlite3.DatabaseError) -> StoreError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            return StoreError(
                f"{self.path} is not a readable lineage database ({text}). Move it aside and "
                "a new one is created, or pass --db to another file.",
                str(self.path),
            )
        if "readonly" in text or "read-only" in text:
            return StoreError(
                f"The lineage database {self.path} is read-only. Make it writable, or pass "
                f"--db (or set ${ENV_DB}) to a writable location.",
                str(self.path),
            )
        return StoreError(f"The lineage database {self.path} failed: {text}.", str(self.path))

    # -- transactions --------------------------------------------------------------------------
    def _retrying(self, sql: str, params: Any = ()) -> None:
        """Run one statement, retried with backoff while another writer holds the lock."""
        delay = 0.01
        for attempt in range(50):
            try:
                self.conn.execute(sql, params)
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == 49:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; retried while another writer holds the lock."""
        self._retrying("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def write_statement(self, sql: str, params: Any = ()) -> None:
        """One statement as its own transaction (autocommit), retried like :meth:`write`."""
        self._retrying(sql, params)

    def temp_ready(self, name: str) -> bool:
        return name in self._temp

    def mark_temp_ready(self, name: str) -> None:
        self._temp.add(name)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- upkeep --------------------------------------------------------------------------------
    def mark_interrupted(self) -> int:
        """Runs whose process died without ending them become ``interrupted``."""
        host = socket.gethostname()
        rows = self.query(
            "SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ?", (host,)
        )
        dead = [r["id"] for r in rows if r["pid"] and not _pid_alive(r["pid"], r["pid_start"])]
        if dead:
            with self.write() as conn:
                for run_id in dead:
                    ended = conn.execute(
                        "SELECT max(started) FROM executions WHERE run_id = ?", (run_id,)
                    ).fetchone()[0]
                    conn.execute(
                        "UPDATE runs SET status = 'interrupted', ended = ? "
                        "WHERE id = ? AND status = 'running'",
                        (ended or now(), run_id),
                    )
        return len(dead)


def open_store(
    db: str | os.PathLike[str] | None = None,
    *,
    notebook: str | None = None,
    create: bool = False,
) -> Store:
    """Open the store for reading tools (CLI, server): never creates one unless asked."""
    store = Store(default_db_path(notebook, str(db) if db else None), create=create)
    with contextlib.suppress(sqlite3.Error):
        store.mark_interrupted()
    return store
