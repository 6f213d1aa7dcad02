"""The journal beside the store: what a process has finished but not yet written to SQLite.

Each record a tracker makes (a finished cell, and the run's other writes) is appended as one
JSON line with a single ``write()`` to the process's own file, ``<db>.journal/<run id>.<pid>.jsonl``,
before the writer thread puts it into the store; the file is emptied when everything in it is in
the store (once past ``TRUNCATE_AT``), and removed when the run ends. The OS keeps what was
written when the process dies, even by SIGKILL, so nothing that finished is lost.

The owner holds an exclusive ``flock`` on its file for its whole life: a journal whose lock can be
taken belongs to a dead process. Whoever opens the store next (a kernel's writer thread, every
CLI command through ``open_store``) ingests it, idempotently, and removes it: executions are
skipped by id, runs by id, an end only ends a run still running, and the other writes are
``INSERT OR IGNORE``/``OR REPLACE`` of the same values. A line cut short by a kill is skipped.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import RecordRefusedError, StoreError
from ..hashing import tree_text
from ..private import private_dir
from . import writes
from .db import Store

CHUNK = 200  # records per transaction: a backlog is written a chunk at a time
# Emptied once everything in it is in the store and it has grown past this: one truncate per
# ~1,000 cells instead of one per write; replaying what is already in the store is a no-op.
TRUNCATE_AT = 256 * 1024
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))  # made once: on the hot path
_OPEN_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


def journal_dir(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".journal")


# -- the format: {"op": NAME, "args": {...}} per line -------------------------------------------
def _access_row(a: writes.Access) -> list[Any]:
    row = [a.uri, a.hash, a.role, a.kind, a.size, a.hash_error]
    if a.members:
        return [*row, a.version, a.members]  # a folder's tree text, one JSON string
    return [*row, a.version] if a.version else row


def _members(value: Any) -> str | None:
    """A folder's members as journaled: its tree text, or a list of [name, hash, size] (a line
    written before schema 15, left by a killed kernel: recovery crosses upgrades)."""
    if not value or isinstance(value, str):
        return value or None
    return tree_text([(str(m[0]), str(m[1]), int(m[2] or 0)) for m in value])


def _access(row: list[Any]) -> writes.Access:
    uri, digest, role, kind, size, error, version, members = (list(row) + [None] * 8)[:8]
    return writes.Access(
        uri=uri,
        hash=digest,
        role=role,
        kind=kind,
        size=size,
        hash_error=error,
        version=version,
        members=_members(members),
    )


def execution_args(record: writes.ExecutionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "run_id": record.run_id,
        "seq": record.seq,
        "source": record.source,
        "started": record.started,
        "duration_ms": record.duration_ms,
        "cell_id": record.cell_id,
        "execution_count": record.execution_count,
        "error_name": record.error_name,
        "error_value": record.error_value,
        "accesses": [_access_row(a) for a in record.accesses],
        "dataflow": record.dataflow,
        "depends": record.depends,
    }


def execution_from(args: dict[str, Any]) -> writes.ExecutionRecord:
    depends = [(str(up), list(names)) for up, names in args.get("depends") or []]
    return writes.ExecutionRecord(
        **{**args, "accesses": [_access(r) for r in args["accesses"]], "depends": depends}
    )


def encode(name: str, args: dict[str, Any]) -> bytes:
    """One line; ASCII (json escapes everything else), so it never holds a raw newline."""
    if name in ("add_accesses", "add_child"):
        args = {**args, "accesses": [_access_row(a) for a in args["accesses"]]}
    return _ENCODER.encode({"op": name, "args": args}).encode("ascii") + b"\n"


def decode(data: bytes) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """The operations in a journal, in order, and how many lines were unreadable (a last line
    cut short by a kill, a line of an unknown kind)."""
    lines = data.split(b"\n")
    tail = lines.pop()  # what follows the last newline: empty, or a write cut short
    skipped = 1 if tail else 0
    ops: list[tuple[str, dict[str, Any]]] = []
    for line in lines:
        try:
            item = json.loads(line)
            name, args = item["op"], item["args"]
        except (ValueError, TypeError, KeyError):
            skipped += bool(line.strip())
            continue
        if (name != "execution" and name not in _APPLY) or not isinstance(args, dict):
            skipped += 1
            continue
        ops.append((name, args))
    return ops, skipped


# -- the owner's side ---------------------------------------------------------------------------
class Journal:
    """One process's journal file: opened on the first record, locked for the process's life."""

    def __init__(self, db_path: Path, run_id: str) -> None:
        self.path = journal_dir(db_path) / f"{run_id}.{os.getpid()}.jsonl"
        self.size = 0
        self._fd: int | None = None
        self._torn = False  # a failed write may have left part of a line: start a new one

    def append(self, line: bytes) -> None:
        """One ``write()`` of one line; raises OSError (nothing is then half-kept)."""
        if self._fd is None:
            self._open()
        fd = self._fd
        assert fd is not None
        data = b"\n" + line if self._torn else line
        written = os.write(fd, data)
        if written != len(data):  # the disk (or file size limit) is reached: ask again for why
            try:
                written += os.write(fd, data[written:])
            except OSError:
                try:
                    os.ftruncate(fd, self.size)
                except OSError:
                    self._torn = True
                raise
            if written != len(data):
                os.ftruncate(fd, self.size)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        self._torn = False
        self.size += written

    def _open(self) -> None:
        try:
            private_dir(self.path.parent)
        except StoreError as exc:  # what is in the way, said like any failed write
            raise OSError(errno.ENOTDIR, str(exc), str(self.path.parent)) from None
        fd = os.open(self.path, _OPEN_FLAGS, 0o600)
        with contextlib.suppress(OSError):  # a filesystem without locks: still a journal
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fd = fd
        self.size = os.fstat(fd).st_size

    def truncate(self) -> None:
        """Everything in it is in the store: empty it, once it is big enough to matter."""
        if self._fd is not None and self.size >= TRUNCATE_AT:
            os.ftruncate(self._fd, 0)
            self.size = 0

    def close(self, *, remove: bool) -> None:
        """``remove`` once everything is in the store; else it stays for the next process."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if remove:
            with contextlib.suppress(OSError):
                os.unlink(self.path)  # while still locked: no one starts ingesting it meanwhile
        with contextlib.suppress(OSError):
            os.close(fd)

    def removed(self) -> bool:
        """Its file was unlinked while open (``rm -rf .lineage``): what it gets now is lost."""
        if self._fd is None:
            return False
        try:
            return os.fstat(self._fd).st_nlink == 0
        except OSError:
            return True

    def forget(self) -> None:
        """The file was removed under us (``rm -rf .lineage``): the next record starts a new one."""
        self.close(remove=False)
        self.size = 0
        self._torn = False


# -- applying records, once -----------------------------------------------------------------------
def _existing_executions(store: Store, ids: list[str]) -> set[str]:
    marks = ",".join("?" * len(ids))
    rows = store.conn.execute(f"SELECT id FROM executions WHERE id IN ({marks})", ids)
    return {row[0] for row in rows}


def record_once(store: Store, records: list[writes.ExecutionRecord]) -> int:
    """Write executions, skipping those already in the store; returns how many the store refused
    (a record it can never take, e.g. a run's seq taken by another, must not block the rest)."""
    if not records:
        return 0
    try:
        writes.record_executions(store, records)
        return 0
    except RecordRefusedError:
        pass
    existing = _existing_executions(store, [r.id for r in records])
    fresh = [r for r in records if r.id not in existing]
    if len(fresh) > 1:
        try:
            writes.record_executions(store, fresh)  # a replay: only the ones already in failed
            return 0
        except RecordRefusedError:
            pass
    refused = 0
    for record in fresh:
        try:
            writes.record_executions(store, [record])
        except RecordRefusedError:
            refused += 1
    return refused


def _run_status(store: Store, run_id: str) -> str | None:
    row = store.conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
    return None if row is None else str(row[0])


def _begin_run(store: Store, **args: Any) -> None:
    if _run_status(store, args["run_id"]) is None:
        writes.begin_run(store, **args)


def _end_run(store: Store, **args: Any) -> None:
    if _run_status(store, args["run_id"]) in ("running", None):
        writes.end_run(store, **args)


def _add_accesses(store: Store, execution_id: str, accesses: list[Any]) -> None:
    items = [a if isinstance(a, writes.Access) else _access(a) for a in accesses]
    writes.add_accesses(store, execution_id, items)


def _add_child(store: Store, accesses: list[Any], **args: Any) -> None:
    items = [a if isinstance(a, writes.Access) else _access(a) for a in accesses]
    writes.add_child(store, accesses=items, **args)


# Every operation, applied so that applying it twice leaves the store as applying it once.
_APPLY: dict[str, Callable[..., object]] = {
    "begin_run": _begin_run,
    "set_params": writes.set_params,
    "log_metric": writes.log_metric,
    "set_run_environment": writes.set_run_environment,
    "set_run_git": writes.set_run_git,
    "add_accesses": _add_accesses,
    "add_child": _add_child,
    "end_run": _end_run,
    "rename_run": writes.rename_run,
}


def apply(store: Store, name: str, args: dict[str, Any]) -> None:
    _APPLY[name](store, **args)


def apply_all(store: Store, ops: Iterable[tuple[str, dict[str, Any]]]) -> tuple[int, int]:
    """A journal's operations in order, executions a chunk per transaction: (records, refused)."""
    records: list[writes.ExecutionRecord] = []
    count = refused = 0

    def write_chunk() -> None:
        nonlocal refused
        refused += record_once(store, records)
        records.clear()

    for name, args in ops:
        if name == "execution":
            try:
                records.append(execution_from(args))
            except (TypeError, ValueError, KeyError):
                continue  # not a record this version can read: skipped, like a torn line
            count += 1
            if len(records) >= CHUNK:
                write_chunk()
            continue
        write_chunk()
        try:
            apply(store, name, args)
        except RecordRefusedError:
            refused += 1
        except (TypeError, ValueError, KeyError):
            continue
        count += 1
    write_chunk()
    return count, refused


# -- ingesting dead processes' journals ----------------------------------------------------------
def ingest(store: Store) -> int:
    """Every journal beside the store whose process is gone goes into it, then is removed.
    Returns how many records were read. Journals of live processes are left alone."""
    folder = journal_dir(store.path)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return 0  # no journal folder: the usual case, one failed listdir
    total = 0
    for name in names:
        if name.endswith(".jsonl"):
            total += _ingest_file(store, folder / name)
    return total


def _ingest_file(store: Store, path: Path) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # its process is alive, or another process is ingesting it
        if os.fstat(fd).st_nlink == 0:
            return 0  # ingested and removed while we waited
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        ops, _skipped = decode(b"".join(chunks))
        count, _refused = apply_all(store, ops)
        os.unlink(path)
        return count
    finally:
        os.close(fd)
