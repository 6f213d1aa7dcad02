"""The reader registry: how capture sees files that libraries open in C, Rust or C++.

``spec`` (what a spec says), ``catalog`` (every spec: built-in, then the
``jupyter_lineage.readers`` entry points), ``install`` (wrapping on import, unwrapping on unload),
and one module of specs per family of libraries (``tabular``, ``hdf``, ``models``, …).
"""

from .spec import Spec

__all__ = ["Spec"]
