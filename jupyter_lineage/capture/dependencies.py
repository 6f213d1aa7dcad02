"""Dependency edges between executions, in the kernel's real order.

An execution that uses ``x`` depends on the latest earlier execution of this kernel that
defined or may have updated ``x``. This object lives as long as the kernel's tracker, so a
kernel restart (a new process, a new run) starts fresh, and re-runs and out-of-order runs are
handled by construction: the order is the order cells actually ran.

After each cell the user namespace is compared with the one after the previous cell by object
identity (``id``) only: names rebound, added or deleted by code the AST cannot see (``%store
-r``, ``from m import *``, a function assigning a ``global``). No value is copied, pickled,
hashed or kept alive.
"""

from __future__ import annotations

import builtins
from collections.abc import MutableMapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .dataflow import Analyzer, Names

_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "_oh", "_ih", "_dh"})
_BUILTINS = frozenset(dir(builtins))


def _ipython_managed(name: str) -> bool:
    """IPython's own history names: ``_``, ``__``, ``_i``, ``_ii``, ``_i7``, ``_7``, ``In``…"""
    if name in _IPYTHON_NAMES:
        return True
    if not name.startswith("_"):
        return False
    core = name.lstrip("_")
    return (
        core == ""
        or core.isdigit()
        or (core[0] == "i" and (core[1:].isdigit() or not core.strip("i")))
    )


@dataclass(frozen=True, slots=True)
class CellFlow:
    """One execution's dataflow, as stored: names, and the executions it depends on."""

    defines: list[str]
    updates: list[str]
    uses: list[str]
    deletes: list[str]
    opaque: bool
    depends: list[tuple[str, list[str]]]  # (upstream execution id, linking names)

    def names(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "defines": self.defines,
            "updates": self.updates,
            "uses": self.uses,
            "deletes": self.deletes,
        }
        if self.opaque:
            out["opaque"] = True
        return out


class Dataflow:
    """The kernel's state for dependency edges: who last defined each name."""

    def __init__(
        self, namespace: MutableMapping[str, Any] | None = None, analyzer: Analyzer | None = None
    ) -> None:
        self.namespace = namespace
        self.analyzer = analyzer or Analyzer()
        self._definer: dict[str, str] = {}  # name -> execution id
        # function or class name -> (globals it reads, globals it may update) when called
        self._calls: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._history: list[str] = []  # this kernel's executions, in order (for opaque cells)
        self._ids: dict[str, int] = self._snapshot()[0]

    def _snapshot(self) -> tuple[dict[str, int], list[str]]:
        """The namespace's ids, and the names whose object changed since the last snapshot."""
        ns = self.namespace
        if ns is None:
            return {}, []
        old = getattr(self, "_ids", {})
        ids: dict[str, int] = {}
        changed: list[str] = []
        for name, value in list(ns.items()):
            ident = id(value)
            ids[name] = ident
            if old.get(name) != ident:
                changed.append(name)
        return ids, changed

    def _expand(self, names: set[str]) -> tuple[set[str], set[str]]:
        """Uses plus what the functions among them read when called (transitively), and what
        those functions may update."""
        uses, updates = set(names), set[str]()
        todo = [n for n in names if n in self._calls]
        seen: set[str] = set()
        while todo:
            fn = todo.pop()
            if fn in seen:
                continue
            seen.add(fn)
            loads, changes = self._calls[fn]
            uses |= loads
            updates |= changes
            todo += [n for n in loads if n in self._calls]
        return uses, updates

    def execution(self, exec_id: str, source: str, *, failed: bool = False) -> CellFlow:
        """Record one finished execution and return its dataflow (the notebook's thread)."""
        names: Names = self.analyzer.names(source)
        # The whole namespace is compared (one pass over it, which grows with IPython's
        # history names) only after a cell that may bind names its AST does not show, or that
        # failed part-way; otherwise the AST is exact and the baseline is kept by name.
        rebound: set[str] = set()
        deleted: set[str] = set()
        if failed or names.hidden_binds:
            ids, changed = self._snapshot()
            rebound = {n for n in changed if not _ipython_managed(n)}
            deleted = {n for n in self._ids if n not in ids and n in self._definer}
            self._ids = ids
        elif self.namespace is not None:
            ns_now = self.namespace
            for name in names.defines:
                if name in ns_now:
                    self._ids[name] = id(ns_now[name])
            for name in names.deletes:
                self._ids.pop(name, None)
        ns = self.namespace

        uses, called_updates = self._expand(set(names.uses))
        defines = set(rebound) if failed else set(names.defines) | rebound
        defines -= deleted
        updates = (set(names.updates) | called_updates) - defines
        if ns is not None:
            # a module's attributes are set by every `plt.plot(...)`: not a dataflow update
            updates = {n for n in updates if not isinstance(ns.get(n), ModuleType)}
            updates &= ns.keys()
        deletes = (set(names.deletes) | deleted) - defines
        # a builtin is a use only when the user shadowed it with a name of their own
        uses = {n for n in uses if n in self._definer or n not in _BUILTINS}
        uses -= {n for n in uses if _ipython_managed(n)}

        depends: dict[str, set[str]] = {}
        if names.opaque:
            for earlier in self._history:
                depends.setdefault(earlier, {"*"})
        for name in uses | updates:
            upstream = self._definer.get(name)
            if upstream is not None:
                links = depends.setdefault(upstream, set())
                links.discard("*")
                links.add(name)

        for name in defines | updates:
            self._definer[name] = exec_id
            if name in defines:
                self._calls.pop(name, None)
        for name, loads, changes in names.functions:
            if name in defines:
                self._calls[name] = (loads, changes)
        for name in deletes:
            self._definer.pop(name, None)
            self._calls.pop(name, None)
        self._history.append(exec_id)
        return CellFlow(
            defines=sorted(defines),
            updates=sorted(updates),
            uses=sorted(uses),
            deletes=sorted(deletes),
            opaque=names.opaque,
            depends=sorted((k, sorted(v)) for k, v in depends.items()),
        )
