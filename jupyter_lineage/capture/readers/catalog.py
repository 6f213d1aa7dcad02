"""Every reader spec: the built-in ones, then those of the ``jupyter_lineage.readers`` entry
points, so a third party covers its library without touching the tracker.

An entry point names a :class:`~.spec.Spec`, a list of them, or a function returning them; its
module must not import the library it describes (the spec is installed when the user does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from . import duckdb, fetchers, hdf, models, polars, tabular
from .spec import Spec

GROUP = "jupyter_lineage.readers"
BUILTIN: tuple[Spec, ...] = (
    *tabular.SPECS,
    *polars.SPECS,
    *duckdb.SPECS,
    *hdf.SPECS,
    *models.SPECS,
    *fetchers.SPECS,
)


def _as_specs(obj: object) -> list[Spec]:
    if isinstance(obj, Spec):
        return [obj]
    if callable(obj):
        obj = obj()
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        specs = list(obj)
        if specs and all(isinstance(s, Spec) for s in specs):
            return specs
    raise TypeError("expected a Spec, a list of Spec or a function returning them")


def readers_cache(db_path: Path) -> Path:
    """Beside the store, like the environment's package list."""
    return db_path.with_name(db_path.name + ".readers.json")


def _entry_points(cache: Path | None) -> list[EntryPoint]:
    """The group's entry points. Finding them reads every installed distribution's metadata
    (tens of ms at each kernel start), so the list is kept in ``cache`` keyed, like the
    environment's, by the state of the folders on ``sys.path``."""
    from ..environment import cache_key, write_whole

    if cache is None:
        return list(entry_points(group=GROUP))
    key: list[Any] = cache_key()
    try:
        with open(cache, encoding="utf-8") as f:
            data = json.load(f)
        if data.get("key") == key:
            return [EntryPoint(str(n), str(v), GROUP) for n, v in data["points"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass  # missing, stale or damaged: look again
    points = list(entry_points(group=GROUP))
    write_whole(cache, {"key": key, "points": [[p.name, p.value] for p in points]})
    return points


def plugins(warn: Callable[[str, str], None], cache: Path | None = None) -> list[Spec]:
    """The specs other packages declare; one that cannot load is one warning naming it."""
    found: list[Spec] = []
    try:
        points = _entry_points(cache)
    except Exception:
        return found
    for point in points:
        try:
            found.extend(_as_specs(point.load()))
        except Exception as exc:
            warn(
                f"reader:{point.name}",
                f"the reader plugin {point.name} ({point.value}) could not be loaded "
                f"({type(exc).__name__}: {exc}); the files it covers are not recorded.",
            )
    return found


def all_specs(warn: Callable[[str, str], None], cache: Path | None = None) -> list[Spec]:
    return [*BUILTIN, *plugins(warn, cache)]
