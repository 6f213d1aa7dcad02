"""Folders as datasets: a cell that reads (or writes) many files in one folder — 2,000 training
images, a partitioned parquet dataset — records the folder as one artifact whose version is a
tree hash over its members (relative name, size, content hash); the members go to the store
once per folder version, so an unchanged folder re-read adds one access row, not one per file.

The folder is the files' common parent, climbing over hive partition folders (``year=2024/``).
Files below the threshold stay files: a cell reading three CSVs records three CSVs.
"""

from __future__ import annotations

import os
from dataclasses import replace

from ..hashing import tree_digest, tree_text
from ..store.writes import Access

MIN_FILES = int(os.environ.get("JUPYTER_LINEAGE_FOLDER_FILES", "20") or 20)


def _root(folder: str) -> str:
    """The dataset a file's folder belongs to: hive partitions (``year=2024``) climbed over."""
    while "=" in folder.rpartition("/")[2]:
        folder = folder.rpartition("/")[0]
    return folder


class Folders:
    """Collapses a cell's file accesses by folder; remembers which folder versions this process
    already sent with their members (the store keeps them: later sends omit them)."""

    def __init__(self, min_files: int = MIN_FILES) -> None:
        self.min_files = min_files
        self.sent: set[str] = set()
        self._last: dict[str, tuple[list[Access], Access]] = {}  # root -> its last folder
        self._last_in: list[Access] = []
        self._last_out: list[Access] = []

    def collapse(self, accesses: list[Access]) -> list[Access]:
        if len(accesses) < self.min_files:
            return accesses
        if accesses == self._last_in:  # the same records as the last call (identity: cheap)
            return list(self._last_out)
        out = self._collapse(accesses)
        self._last_in = accesses
        self._last_out = [replace(a, members=None) if a.members else a for a in out]
        return out

    def _collapse(self, accesses: list[Access]) -> list[Access]:
        kept: list[Access] = []
        by_folder: dict[str, list[Access]] = {}
        for a in accesses:  # per file: kept lean (a folder of 2,000 images)
            uri = a.uri
            if a.hash and not a.members and "://" not in uri:
                parent = uri[: uri.rfind("/")]
                found = by_folder.get(parent)
                if found is None:
                    by_folder[parent] = [a]
                else:
                    found.append(a)
            else:
                kept.append(a)
        groups: dict[str, list[Access]] = {}
        for parent, items in by_folder.items():  # then per folder: its dataset's root
            root = _root(parent)
            if root in groups:
                groups[root] += items
            else:
                groups[root] = items
        for root, items in groups.items():
            if len(items) < self.min_files:
                kept.extend(items)
                continue
            last = self._last.get(root)
            # the same records as last time (capture reuses them for unchanged files): the
            # same folder, already sent with its members
            if last is not None and last[0] == items:
                kept.append(last[1])
                continue
            folder = self._folder(root, items)
            if len(self._last) >= 64:
                self._last.clear()
            self._last[root] = (items, replace(folder, members=None))
            kept.append(folder)
        return kept

    def _folder(self, root: str, items: list[Access]) -> Access:
        start = len(root) + 1
        # the members as one text, built once: hashed here, kept whole by the store
        text = tree_text([(a.uri[start:], a.hash, a.size or 0) for a in items])
        digest = tree_digest(text)
        kinds = {a.kind for a in items}
        uri = root.rstrip("/") + "/"
        first = digest not in self.sent
        self.sent.add(digest)
        return Access(
            uri=uri,
            hash=digest,
            role=items[0].role,
            kind=kinds.pop() if len(kinds) == 1 else "dataset",
            size=sum(a.size or 0 for a in items),
            members=text if first else None,
        )
