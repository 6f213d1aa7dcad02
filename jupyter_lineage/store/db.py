"""Opening the lineage database: location, permissions, WAL, schema checks, short transactions."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import socket
import sqlite3
import stat
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import (
    NotAStoreError,
    RecordRefusedError,
    RequestTimeoutError,
    SchemaTooNewError,
    StoreBusyError,
    StoreError,
    StoreMissingError,
    StoreUnwritableError,
)
from ..faults import diagnose, is_write_failure
from ..private import private_dir
from .location import ENV_DB, here, project_root
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 30_000


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


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
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = True,
        readonly: bool = False,
        busy_ms: int = BUSY_TIMEOUT_MS,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.root = str(project_root(self.path))  # relative paths are anchored here
        self.readonly = readonly
        self.busy_ms = busy_ms
        self._temp: set[str] = set()  # TEMP objects made on this connection
        self._create = create
        if readonly:
            self._open_readonly()
            return
        if not self._check_file():
            if not create:
                raise StoreMissingError(
                    f"No lineage database at {self.path}. Run a notebook with "
                    "`%load_ext jupyter_lineage` first, or pass --db PATH.",
                    str(self.path),
                )
            self._create_file()
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
        self._functions()
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
    def _check_file(self) -> bool:
        """Whether the database file exists; anything but a regular file is refused before
        SQLite opens it (a device would get a -journal next to it, a FIFO would block)."""
        try:
            st = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise StoreError(f"Cannot open {self.path}: {exc.strerror}.", str(self.path)) from None
        if stat.S_ISDIR(st.st_mode):
            raise NotAStoreError(
                f"{self.path} is a folder, not a lineage database; pass --db FILE.", str(self.path)
            )
        if not stat.S_ISREG(st.st_mode):
            raise NotAStoreError(
                f"{self.path} is not a regular file, so it is not a lineage database; pass --db "
                "to a lineage database file.",
                str(self.path),
            )
        return True

    def _check_is_store(self) -> None:
        """An existing file becomes a store only when it is one already, or is empty and this
        command creates stores (``run``, ``sweep``, ``merge``, a tracked kernel). Readers never
        give a schema to a file, and nothing adds one to somebody else's SQLite database."""
        if self.version > 0:
            return
        tables = self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables == 0 and self._create and not self.readonly:
            return
        what = "is empty" if tables == 0 else "is a SQLite database of something else"
        raise NotAStoreError(
            f"{self.path} {what}, not a lineage database. Pass --db to a lineage database "
            "(`jupyter lineage run` or `%load_ext jupyter_lineage` creates one).",
            str(self.path),
        )

    def _open_readonly(self) -> None:
        """For the server: never creates, migrates or writes anything."""
        if not self._check_file():
            raise StoreMissingError(
                f"No lineage database at {self.path}. Run `%load_ext jupyter_lineage` in a "
                "notebook to start tracking.",
                str(self.path),
            )
        try:
            self.conn = sqlite3.connect(
                f"file:{self.path}?mode=ro",
                uri=True,
                timeout=self.busy_ms / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_ms)}")
            self._functions()
            self._check_is_store()
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
            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600)
            os.close(fd)
        except OSError as exc:
            if is_write_failure(exc):
                raise unwritable(self.path, exc) from exc
            raise StoreError(
                f"Cannot create the lineage database {self.path}: {exc.strerror}. "
                f"Pass --db (or set ${ENV_DB}) to a writable location.",
                str(self.path),
            )

    def _functions(self) -> None:
        """``jl_here(uri, rel)``: where a recorded file is now (the project may have moved)."""
        root = self.root
        self.conn.create_function(
            "jl_here", 2, lambda uri, rel: here(uri, rel, root), deterministic=True
        )

    def _configure(self) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._check_is_store()
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
            return NotAStoreError(
                f"{self.path} is not a readable lineage database ({text}). Move it aside and "
                "a new one is created, or pass --db to another file.",
                str(self.path),
            )
        if is_write_failure(exc):
            return unwritable(self.path, exc)
        if "locked" in text or "busy" in text:
            return StoreBusyError(
                f"The lineage database {self.path} is locked by another process ({text}); "
                "try again in a moment.",
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
    def translated(self) -> Iterator[None]:
        r"""SQLite's errors leave the store as :class:`StoreError`\ s that say what is wrong (a
        refused record, a busy, full, read-only or corrupt store): callers never see sqlite3."""
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise RecordRefusedError(f"A record was refused by the store ({exc}).") from exc
        except sqlite3.DatabaseError as exc:
            raise self._explain(exc) from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        r"""One short write transaction; retried while another writer holds the lock.

        Failures are :class:`StoreError`\ s (see :meth:`translated`); a full disk or a read-only
        store is a :class:`StoreUnwritableError` that says which."""
        with self.translated():
            self._retrying("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error:
                    with contextlib.suppress(sqlite3.Error):
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK")
                    raise

    def write_statement(self, sql: str, params: Any = ()) -> None:
        """One statement as its own transaction (autocommit), retried like :meth:`write`."""
        with self.translated():
            self._retrying(sql, params)

    def temp_ready(self, name: str) -> bool:
        return name in self._temp

    def mark_temp_ready(self, name: str) -> None:
        self._temp.add(name)

    @contextlib.contextmanager
    def time_bound(self, seconds: float) -> Iterator[None]:
        """Reads on this connection stop after ``seconds`` (the REST API's bound per request):
        SQLite's progress handler aborts a long query, and a lock wait ends then too. Any
        database error inside is explained as a StoreError."""
        deadline = time.monotonic() + seconds
        self.conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        self.conn.execute(f"PRAGMA busy_timeout = {max(1, int(seconds * 1000))}")
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            late = time.monotonic() >= deadline - 0.05
            if "interrupted" in text or (late and ("locked" in text or "busy" in text)):
                raise RequestTimeoutError(
                    f"The request took more than {seconds:g} s and was stopped. Ask for less "
                    "(a smaller depth or limit), or raise the server's lineage_request_timeout."
                ) from None
            raise self._explain(exc) from None
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.conn.set_progress_handler(None, 0)

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


def unwritable(path: Path, exc: BaseException) -> StoreUnwritableError:
    """What is wrong and what to do, when a write to the store at ``path`` failed."""
    reason, what = diagnose(path, exc)
    fix = {
        "disk_full": "Free some space and run again",
        "read_only": "Make it writable",
    }.get(reason, "Check the disk")
    return StoreUnwritableError(
        f"{what[0].upper()}{what[1:]}. {fix}, or pass --db (or set ${ENV_DB}) to another "
        "location; what was recorded before is kept.",
        str(path),
        reason,
    )
