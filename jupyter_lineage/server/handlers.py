"""Thin handlers: parse and check the request, call the Python API's store functions, answer
JSON. Reads only; every error is JSON ``{code, message}``."""

from __future__ import annotations

import json
import os
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import diff as diff_mod
from .. import graph, staleness
from ..errors import (
    AmbiguousRunError,
    LineageError,
    NotFoundError,
    StoreMissingError,
    UsageError,
)
from ..store import Store, default_db_path, queries

STATUS = {NotFoundError: 404, StoreMissingError: 404, UsageError: 400, AmbiguousRunError: 400}


class LineageHandler(APIHandler):
    """Base: the store for the request, and errors as JSON."""

    @property
    def root_dir(self) -> str:
        return os.path.abspath(os.path.expanduser(self.settings.get("server_root_dir", ".")))

    def _confined(self, name: str) -> str | None:
        """A path from the request, resolved inside the server root — never outside it."""
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return None
        if "\x00" in raw or os.path.isabs(raw):
            raise UsageError(f"{name} must be a path relative to the server root.")
        full = os.path.normpath(os.path.join(self.root_dir, raw))
        if full != self.root_dir and not full.startswith(self.root_dir + os.sep):
            raise UsageError(f"{name} must be inside the server root.")
        return full

    def notebook_path(self) -> str | None:
        """The notebook's Jupyter path (relative to the server root) as an absolute path."""
        return self._confined("notebook")

    def store(self, notebook: str | None) -> Store:
        """``db=`` (the sidebar's store-path setting, inside the root) > server config and
        ``$JUPYTER_LINEAGE_DB`` > the notebook's own ``.lineage/lineage.db``."""
        chosen = self._confined("db") or self.settings.get("lineage_db") or None
        anchor = notebook or os.path.join(self.root_dir, "_")
        return Store(default_db_path(anchor, chosen), readonly=True)

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise UsageError(f"{name} must be a whole number.") from None
        if not low <= value <= high:
            raise UsageError(f"{name} must be between {low} and {high}.")
        return value

    def answer(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    def fail(self, exc: LineageError) -> None:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
        self.set_status(status)
        self.answer({"code": exc.code, "message": str(exc)})

    def respond(self, produce: Any) -> None:
        try:
            self.answer(produce())
        except LineageError as exc:
            self.fail(exc)


class RunsHandler(LineageHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        def produce() -> Any:
            notebook = self.notebook_path()
            limit = self.int_argument("limit", 50, 0, 1000)
            offset = self.int_argument("offset", 0, 0, 10**9)
            where = self.get_query_arguments("where")
            with self.store(notebook) as store:
                return queries.list_runs(
                    store, notebook=notebook, limit=limit, offset=offset, where=where
                )

        self.respond(produce)


class RunHandler(LineageHandler):
    @tornado.web.authenticated
    def get(self, run_id: str) -> None:
        def produce() -> Any:
            notebook = self.notebook_path()
            with self.store(notebook) as store:
                return queries.show_run(store, run_id)

        self.respond(produce)


class GraphHandler(LineageHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        def produce() -> Any:
            notebook = self.notebook_path()
            run = self.get_query_argument("run", None)
            artifact = self.get_query_argument("artifact", None)
            depth = self.int_argument("depth", 2, 0, 10)
            with self.store(notebook) as store:
                return graph.build(
                    store,
                    notebook=None if run or artifact else notebook,
                    run=run,
                    artifact=artifact,
                    expand=self.get_query_argument("expand", None),
                    depth=depth,
                )

        self.respond(produce)


class DiffHandler(LineageHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        def produce() -> Any:
            a, b = self.get_query_argument("a", None), self.get_query_argument("b", None)
            if not a or not b:
                raise UsageError("Give the two runs to compare as ?a=RUN&b=RUN.")
            notebook = self.notebook_path()
            with self.store(notebook) as store:
                return diff_mod.diff_runs(store, a, b)

        self.respond(produce)


class StatusHandler(LineageHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        def produce() -> Any:
            notebook = self.notebook_path()
            with self.store(notebook) as store:
                return staleness.stale(store)

        self.respond(produce)


ROUTES = [
    (r"runs", RunsHandler),
    (r"runs/([0-9a-fA-F-]{1,36})", RunHandler),
    (r"graph", GraphHandler),
    (r"diff", DiffHandler),
    (r"status", StatusHandler),
]


def setup_handlers(serverapp: Any) -> None:
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "lineage", "api")
    web_app.settings.setdefault("lineage_db", os.environ.get("JUPYTER_LINEAGE_DB") or None)
    web_app.add_handlers(".*$", [(url_path_join(base, path), handler) for path, handler in ROUTES])
