"""Everything that writes the lineage graph. Callers: capture/ and pipeline/ (and the API's
``rename``, the one edit a user makes)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import blake3

from ..hashing import tree_files
from ..ids import artifact_id, run_name, uuid7
from ..redaction import redact
from .db import Store, now, process_identity
from .location import relative


@dataclass(slots=True, unsafe_hash=True)
class Access:
    """One file or URL version an execution read or wrote. Treated as immutable (change one
    with ``dataclasses.replace``); not declared frozen because capture makes one per file a
    cell reads, and a frozen dataclass's ``__init__`` costs three times as much."""

    uri: str
    hash: str
    role: str  # "read" | "write"
    kind: str = "other"
    size: int | None = None
    hash_error: str | None = None  # why the file could not be hashed (then hash is "")
    version: str | None = None  # a URL's version identity (ETag, Last-Modified, size, …)
    # A folder read or written as a whole (uri ends with "/", hash is its tree hash): its files
    # as the text that hash covers (hashing.tree_text), sent with the first record of that
    # folder version only; stored as one row however many files it holds.
    members: str | None = None


@dataclass
class ExecutionRecord:
    run_id: str
    seq: int
    source: str
    started: str
    duration_ms: float
    cell_id: str | None = None
    execution_count: int | None = None
    error_name: str | None = None
    error_value: str | None = None
    accesses: list[Access] = field(default_factory=list)
    id: str = field(default_factory=uuid7)
    # what it defined, updated, used, deleted (None: not analysed) and the earlier executions it
    # depends on, each with the names that link them (capture/dependencies.py)
    dataflow: dict[str, Any] | None = None
    depends: list[tuple[str, list[str]]] = field(default_factory=list)


def text_hash(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return blake3.blake3(data).hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _put_environment(conn: sqlite3.Connection, environment: Mapping[str, Any]) -> str:
    data = canonical_json(environment)
    env_id = text_hash(data)[:32]
    conn.execute(
        "INSERT OR IGNORE INTO environments (id, python, platform, data) VALUES (?, ?, ?, ?)",
        (env_id, environment.get("python"), environment.get("platform"), data),
    )
    return env_id


def _put_git(conn: sqlite3.Connection, git: Mapping[str, Any] | None) -> str | None:
    if not git:
        return None
    diff = git.get("diff") or ""
    diff_hash = text_hash(diff)[:32] if diff else None
    if diff_hash:
        conn.execute(
            "INSERT OR IGNORE INTO git_diffs (hash, text) VALUES (?, ?)", (diff_hash, diff)
        )
    row: tuple[Any, ...] = (
        git.get("commit"),
        git.get("branch"),
        1 if git.get("dirty") else 0,
        git.get("remote"),
        git.get("root"),
        diff_hash,
    )
    error = git.get("error")
    # the id of a state read without error is what it was before errors were kept (merges)
    git_id = text_hash(canonical_json(row + ((error,) if error else ())))[:32]
    conn.execute(
        "INSERT OR IGNORE INTO git_states"
        " (id, commit_sha, branch, dirty, remote, root, diff_hash, error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (git_id, *row, str(error)[:2000] if error else None),
    )
    return git_id


def begin_run(
    store: Store,
    *,
    kind: str,
    notebook: str | None = None,
    notebook_hash: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    environment: Mapping[str, Any] | None = None,
    git: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
    cwd: str | None = None,
    run_id: str | None = None,
    status: str = "running",
    identity: Mapping[str, Any] | None = None,
    started: str | None = None,
    name: str | None = None,
    note: str | None = None,
) -> str:
    """``identity`` and ``started``: the process that ran it and when, if not the caller now
    (a journal ingested after its kernel died, see journal.py)."""
    run_id = run_id or uuid7()
    ident = identity or process_identity()
    with store.write() as conn:
        env_id = _put_environment(conn, environment) if environment else None
        git_id = _put_git(conn, git)
        conn.execute(
            "INSERT INTO runs (id, kind, notebook, notebook_rel, notebook_hash, status, started,"
            " environment_id, git_id, parent_id, user, host, pid, pid_start, cwd, name, note)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                kind,
                notebook,
                relative(notebook, store.root) if notebook else None,
                notebook_hash,
                status,
                started or now(),
                env_id,
                git_id,
                parent_id,
                ident["user"],
                ident["host"],
                ident["pid"],
                ident["pid_start"],
                cwd,
                name or free_name(conn, run_id),
                note,
            ),
        )
        if env_id:
            conn.execute(
                "INSERT INTO run_environments (run_id, seq, environment_id) VALUES (?, 0, ?)",
                (run_id, env_id),
            )
        _put_params(conn, run_id, parameters or {})
    return run_id


def free_name(conn: sqlite3.Connection, run_id: str) -> str:
    """The run's generated name, or the next candidate when another run holds it (inside the
    write transaction, so two writers never pick the same one)."""
    for attempt in range(1000):
        name = run_name(run_id, attempt)
        if conn.execute("SELECT 1 FROM runs WHERE name = ?", (name,)).fetchone() is None:
            return name
    return run_id  # 1000 names taken: the id itself is always free


def rename_run(store: Store, run_id: str, name: str | None, note: str | None) -> None:
    """A name the user chose (None: keep the name) and a note (None: keep the note)."""
    with store.write() as conn:
        if name is not None:
            conn.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))
        if note is not None:
            conn.execute("UPDATE runs SET note = ? WHERE id = ?", (note or None, run_id))


def _put_params(conn: sqlite3.Connection, run_id: str, parameters: Mapping[str, Any]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO params (run_id, name, value) VALUES (?, ?, ?)",
        [(run_id, str(k), json.dumps(v, default=str)) for k, v in parameters.items()],
    )


def set_params(store: Store, run_id: str, parameters: Mapping[str, Any]) -> None:
    with store.write() as conn:
        _put_params(conn, run_id, parameters)


def log_metric(
    store: Store,
    run_id: str,
    name: str,
    value: Any,
    *,
    step: int | None = None,
    execution_id: str | None = None,
    recorded: str | None = None,
) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = json.dumps(value, default=str)
    with store.write() as conn:
        conn.execute(
            "INSERT OR REPLACE INTO metrics (run_id, name, step, value, recorded, execution_id)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                name,
                -1 if step is None else int(step),
                value,
                recorded or now(),
                execution_id,
            ),
        )


def set_run_environment(store: Store, run_id: str, seq: int, environment: Mapping[str, Any]) -> str:
    """The environment changed mid-run (e.g. ``%pip install``): remember from which cell on."""
    with store.write() as conn:
        env_id = _put_environment(conn, environment)
        conn.execute(
            "INSERT OR REPLACE INTO run_environments (run_id, seq, environment_id) VALUES (?, ?, ?)",
            (run_id, seq, env_id),
        )
        conn.execute("UPDATE runs SET environment_id = ? WHERE id = ?", (env_id, run_id))
    return env_id


def set_run_git(store: Store, run_id: str, git: Mapping[str, Any] | None) -> None:
    with store.write() as conn:
        conn.execute("UPDATE runs SET git_id = ? WHERE id = ?", (_put_git(conn, git), run_id))


# One record of a file version an execution (or a whole run) touched, defined once. Each entry:
# a column and how its value is read off an Access. ``_ARTIFACT`` fills ``artifacts`` (plus
# ``first_seen``, the time of the write); ``_LINK`` fills ``accesses`` / ``run_files`` after the
# owner and the artifact id. The per-cell trigger, the plain INSERTs and the JSON the trigger
# unpacks are all generated from these lists: a new column is one line here (and a migration).
# Each value is read off the Access and the store's project root (``rel``: see location.py).
_Field = tuple[str, Callable[[Access, str], Any]]
_ARTIFACT: tuple[_Field, ...] = (
    ("id", lambda a, root: artifact_id(a.uri, a.hash)),
    ("uri", lambda a, root: a.uri),
    ("hash", lambda a, root: a.hash),
    ("size", lambda a, root: a.size),
    ("kind", lambda a, root: a.kind),
    ("hash_error", lambda a, root: a.hash_error),
    ("version", lambda a, root: a.version),
    ("rel", lambda a, root: relative(a.uri, root)),
)
_LINK: tuple[_Field, ...] = (("role", lambda a, root: a.role),)
_FIELDS = _ARTIFACT + _LINK
_ID = [name for name, _ in _ARTIFACT].index("id")  # where the artifact id sits in _values()


def _values(a: Access, root: str) -> list[Any]:
    """One access as the list both write paths store: the artifact's columns, then the link's."""
    return [value(a, root) for _, value in _FIELDS]


def _columns(fields: tuple[_Field, ...]) -> str:
    return ", ".join(name for name, _ in fields)


def _unpacked(first: int, count: int) -> str:
    """``json_extract`` of ``count`` items of one payload access, from position ``first``."""
    return ", ".join(f"json_extract(value, '$[{i}]')" for i in range(first, first + count))


_ARTIFACT_COLUMNS = _columns(_ARTIFACT) + ", first_seen"
_LINK_COLUMNS = _columns(_LINK)
_INSERT_ARTIFACT = (
    f"INSERT OR IGNORE INTO artifacts ({_ARTIFACT_COLUMNS})"
    f" VALUES ({', '.join('?' * (len(_ARTIFACT) + 1))})"
)
_LINK_MARKS = ", ".join("?" * (len(_LINK) + 2))
_INSERT_ACCESS = (
    f"INSERT OR IGNORE INTO accesses (execution_id, artifact_id, {_LINK_COLUMNS})"
    f" VALUES ({_LINK_MARKS})"
)
_INSERT_RUN_FILE = (
    f"INSERT OR IGNORE INTO run_files (run_id, artifact_id, {_LINK_COLUMNS}) VALUES ({_LINK_MARKS})"
)


def _put_linked(
    store: Store, conn: sqlite3.Connection, link_sql: str, owner_id: str, accesses: Iterable[Access]
) -> None:
    """Artifacts, then their links to ``owner_id`` (an execution or a run)."""
    stamp = now()
    rows = [_values(a, store.root) for a in accesses]
    n = len(_ARTIFACT)
    conn.executemany(_INSERT_ARTIFACT, [(*row[:n], stamp) for row in rows])
    conn.executemany(link_sql, [(owner_id, row[_ID], *row[n:]) for row in rows])
    conn.executemany(_INSERT_MEMBER, _member_rows(accesses))


_INSERT_MEMBER = "INSERT OR IGNORE INTO folder_members (hash, files, members) VALUES (?, ?, ?)"


def _member_rows(accesses: Iterable[Access]) -> list[tuple[str, int, str]]:
    """A folder's files, one row per tree hash (the same folder content moved or copied is
    stored once)."""
    return [(a.hash, tree_files(a.members), a.members) for a in accesses if a.members]


# One cell's whole record goes in as ONE statement: a TEMP trigger (per connection, no schema
# change) unpacks the JSON into sources, executions, artifacts and accesses, all in that
# statement's own transaction. Each sqlite3 call releases the GIL, and inside a kernel getting it
# back waits on ipykernel's I/O threads: one call instead of six per cell saved ~15 % of the
# in-kernel write (pipelines write every cell at once; interactive kernels batch, see tracker).
_CELL_TRIGGER = f"""
CREATE TEMP TABLE IF NOT EXISTS jl_cell (rec TEXT NOT NULL);
CREATE TEMP TRIGGER IF NOT EXISTS jl_cell_record BEFORE INSERT ON jl_cell BEGIN
  INSERT OR IGNORE INTO sources (hash, text)
    VALUES (json_extract(NEW.rec, '$.sh'), json_extract(NEW.rec, '$.src'));
  INSERT INTO executions (id, run_id, seq, cell_id, execution_count, source_hash, started,
                          duration_ms, error_name, error_value, dataflow)
    VALUES (json_extract(NEW.rec, '$.id'), json_extract(NEW.rec, '$.run'),
            json_extract(NEW.rec, '$.seq'), json_extract(NEW.rec, '$.cell'),
            json_extract(NEW.rec, '$.n'), json_extract(NEW.rec, '$.sh'),
            json_extract(NEW.rec, '$.start'), json_extract(NEW.rec, '$.ms'),
            json_extract(NEW.rec, '$.en'), json_extract(NEW.rec, '$.ev'),
            json_extract(NEW.rec, '$.df'));
  INSERT OR IGNORE INTO dependencies (execution_id, upstream_id, names)
    SELECT json_extract(NEW.rec, '$.id'), json_extract(value, '$[0]'), json_extract(value, '$[1]')
    FROM json_each(NEW.rec, '$.dep');
  INSERT OR IGNORE INTO artifacts ({_ARTIFACT_COLUMNS})
    SELECT {_unpacked(0, len(_ARTIFACT))}, json_extract(NEW.rec, '$.now')
    FROM json_each(NEW.rec, '$.acc');
  INSERT OR IGNORE INTO accesses (execution_id, artifact_id, {_LINK_COLUMNS})
    SELECT json_extract(NEW.rec, '$.id'), {_unpacked(_ID, 1)}, {_unpacked(len(_ARTIFACT), len(_LINK))}
    FROM json_each(NEW.rec, '$.acc');
  SELECT RAISE(IGNORE);
END;
"""
_INSERT_CELL = "INSERT INTO jl_cell (rec) VALUES (?)"


def _cell_payload(rec: ExecutionRecord, root: str) -> str:
    stamp = now()
    payload = {
        "id": rec.id,
        "run": rec.run_id,
        "seq": rec.seq,
        "cell": rec.cell_id,
        "n": rec.execution_count,
        "sh": text_hash(rec.source)[:32],
        "src": rec.source,
        "start": rec.started,
        "ms": rec.duration_ms,
        "en": rec.error_name,
        "ev": redact(rec.error_value) if rec.error_value else rec.error_value,
        "now": stamp,
        "acc": [_values(a, root) for a in rec.accesses],
        # the names as JSON text (a column of their own), edges as [upstream, names-JSON]
        "df": canonical_json(rec.dataflow) if rec.dataflow is not None else None,
        "dep": [[up, canonical_json(names)] for up, names in rec.depends],
    }
    return json.dumps(payload)


def record_executions(store: Store, records: Iterable[ExecutionRecord]) -> None:
    """The per-cell hot path: one statement (its own transaction) for one cell; a batch (after
    the store was unavailable for a while) in one transaction."""
    records = list(records)
    payloads = [(_cell_payload(rec, store.root),) for rec in records]
    # A folder's files go in beside the JSON, not in it: SQLite (before 3.45) parses the whole
    # record again for each field the trigger takes out of it.
    members = _member_rows(a for rec in records for a in rec.accesses)
    if not store.temp_ready("jl_cell"):
        with store.translated():
            store.conn.executescript(_CELL_TRIGGER)
        store.mark_temp_ready("jl_cell")
    if len(payloads) == 1 and not members:
        store.write_statement(_INSERT_CELL, payloads[0])
        return
    with store.write() as conn:
        conn.executemany(_INSERT_CELL, payloads)
        conn.executemany(_INSERT_MEMBER, members)


def add_accesses(store: Store, execution_id: str, accesses: Iterable[Access]) -> None:
    """Files declared for an execution already recorded (``log_input`` / ``log_output``)."""
    with store.write() as conn:
        _put_linked(store, conn, _INSERT_ACCESS, execution_id, accesses)


def add_child(
    store: Store,
    *,
    id: str,  # noqa: A002 (the record's field name, as journaled)
    run_id: str,
    execution_id: str,
    pid: int | None,
    argv: str,
    started: str,
    ended: str,
    accesses: Iterable[Access],
) -> None:
    """A child process of a cell: its files become the cell's, and the process is remembered
    with which of them were its own."""
    items = list(accesses)
    with store.write() as conn:
        _put_linked(store, conn, _INSERT_ACCESS, execution_id, items)
        conn.execute(
            "INSERT OR IGNORE INTO child_processes"
            " (id, run_id, execution_id, pid, argv, started, ended) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (id, run_id, execution_id, pid, redact(argv), started, ended),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO child_accesses (process_id, artifact_id, role) VALUES (?, ?, ?)",
            [(id, artifact_id(a.uri, a.hash), a.role) for a in items],
        )


def end_run(
    store: Store,
    run_id: str,
    status: str,
    *,
    error_name: str | None = None,
    error_value: str | None = None,
    failed_execution_id: str | None = None,
    ended: str | None = None,
) -> None:
    with store.write() as conn:
        conn.execute(
            "UPDATE runs SET status = ?, ended = ?, error_name = ?, error_value = ?,"
            " failed_execution_id = ? WHERE id = ?",
            (
                status,
                ended or now(),
                error_name,
                redact(error_value) if error_value else error_value,
                failed_execution_id,
                run_id,
            ),
        )


def cached_hash(store: Store, path: str, size: int, mtime_ns: int, inode: int) -> str | None:
    with store.translated():
        row = store.conn.execute(
            "SELECT hash FROM hash_cache WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
            (path, size, mtime_ns, inode),
        ).fetchone()
    return row[0] if row else None


def remember_hashes(store: Store, entries: Iterable[tuple[str, int, int, int, str]]) -> None:
    rows = list(entries)
    if rows:
        with store.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO hash_cache (path, size, mtime_ns, inode, hash)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )


def put_blob(store: Store, content: str) -> str:
    """Notebook snapshots and output digests, deduplicated by content hash."""
    digest = "blake3:" + text_hash(content)
    with store.write() as conn:
        conn.execute("INSERT OR IGNORE INTO blobs (hash, content) VALUES (?, ?)", (digest, content))
    return digest


def add_run_files(store: Store, run_id: str, accesses: Iterable[Access]) -> None:
    """Files a run as a whole read or wrote (its notebook, the executed notebook)."""
    with store.write() as conn:
        _put_linked(store, conn, _INSERT_RUN_FILE, run_id, accesses)


def set_run_outputs(store: Store, run_id: str, outputs_json: str) -> None:
    digest = put_blob(store, outputs_json)
    with store.write() as conn:
        conn.execute("UPDATE runs SET outputs_hash = ? WHERE id = ?", (digest, run_id))
