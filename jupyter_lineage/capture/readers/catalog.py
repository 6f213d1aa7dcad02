"""Every reader spec: the built-in ones, then those of the ``jupyter_lineage.readers`` entry
points, so a third party covers its library without touching the tracker.

An entry point names a :class:`~.spec.Spec`, a list of them, or a function returning them; its
module must not import the library it describes (the spec is installed when the user does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points

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


def plugins(warn: Callable[[str, str], None]) -> list[Spec]:
    """The specs other packages declare; one that cannot load is one warning naming it."""
    found: list[Spec] = []
    try:
        points = list(entry_points(group=GROUP))
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


def all_specs(warn: Callable[[str, str], None]) -> list[Spec]:
    return [*BUILTIN, *plugins(warn)]
