"""The SQLite lineage graph. Nothing outside this package reads or writes the database, and
this package imports nothing above it (tests/test_house.py checks both).

- ``location``: which store (found from where the user stands) and the project root;
  ``db``: opening a store file, transactions; ``schema``: the migrations.
- ``writes``: every write (called from capture/ and pipeline/ only).
- ``queries``: runs as the tools show them (find, list, show, sources, counts);
  ``details``: the parts of one run; ``filters``: ``runs --where``.
- ``artifacts``: file versions and who wrote or read them; ``lineage``: walks of the graph
  (trace, upstream reads, the run-to-run edges the sidebar draws).
- ``models``: the catalogue's written versions and the tags that name them; ``prune``: removing
  runs with what only they used, the store's size, vacuum (``gc``); ``testruns``: the cell
  outcomes of ``test`` runs (pytest --nbval --lineage).
- ``stages``: runs as pipeline stages (the latest successful run of each notebook, the file
  versions it read and wrote), runs a ``--cache`` may reuse, recording a reuse.
- ``merge``: snapshots of a store file and merging one into another.
- ``journal``: what a process has finished but not yet written (one line per record, beside
  the store), and ingesting what dead processes left; ``recovery``: ``open_store`` for the
  tools, which ingests those first and marks dead runs interrupted.
"""

from .db import Store
from .location import locate
from .recovery import open_store
from .schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "Store", "locate", "open_store"]
