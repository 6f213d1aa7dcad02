"""Thin handlers: read the request's arguments, do the store work off the IOLoop (bounded in
time and in size), answer JSON. Reads only; every error is JSON ``{code, message}``, a 4xx for
anything a request can cause, a 500 only for a bug of ours."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import catalogue, graph, staleness
from .. import diff as diff_mod
from ..envfiles import env_file
from ..errors import (
    AmbiguousRunError,
    ArtifactNotFoundError,
    LineageError,
    NotAStoreError,
    NotFoundError,
    OutsideRootError,
    RequestTimeoutError,
    SchemaTooNewError,
    ServerBusyError,
    StoreError,
    StoreMissingError,
    UsageError,
)
from ..inputs import whole_number
from ..store import Store, queries
from ..store.lineage import DEFAULT_LIMIT
from ..store.scope import run_notebooks, written_paths
from .blocking import TIMEOUT_SECONDS, WORKERS, Pool
from .confine import Scope

# Most specific first.
STATUS: list[tuple[type[LineageError], int]] = [
    (NotFoundError, 404),
    (StoreMissingError, 404),
    (OutsideRootError, 403),
    (RequestTimeoutError, 504),
    (ServerBusyError, 503),
    (SchemaTooNewError, 409),
    (NotAStoreError, 422),
    (StoreError, 503),  # busy, unreadable: the store's state, not the request's fault
    (UsageError, 400),
    (AmbiguousRunError, 400),
    (LineageError, 400),
]
MAX_PAGE = 1000  # runs per page
MAX_DEPTH = 10  # graph hops
MAX_STATUS = 500  # outputs checked by one status request


class LineageHandler(APIHandler):
    """Base: the request's scope and store, the pool, and errors as JSON."""

    @property
    def scope(self) -> Scope:
        return Scope(self.settings.get("server_root_dir", "."), self.settings.get("lineage_db"))

    @property
    def pool(self) -> Pool:
        return self.settings["lineage_pool"]  # type: ignore[no-any-return]

    def arg(self, name: str) -> str | None:
        return self.get_query_argument(name, None)

    def int_arg(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.arg(name)
        return default if raw is None else whole_number(name, raw, low, high)

    def open_store(self, scope: Scope, notebook: str | None, db_arg: str | None) -> Store:
        """``db=`` (the sidebar's store-path setting, inside the root) > server config and
        ``$JUPYTER_LINEAGE_DB`` > the notebook's own ``.lineage/lineage.db`` (inside the root)."""
        path = scope.store_path(notebook, scope.request_path("db", db_arg))
        return Store(path, readonly=True, busy_ms=int(self.pool.timeout * 1000))

    def answer(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A LineageError raised anywhere in a handler (e.g. parsing an argument) is answered
        like every other: its status and ``{code, message}``."""
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, LineageError):
            self.fail(exc)
            return
        super().write_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, LineageError):
            return  # an answer to bad input, not a server fault
        super().log_exception(typ, value, tb)

    def fail(self, exc: LineageError) -> None:
        status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
        self.set_status(status)
        self.answer({"code": exc.code, "message": str(exc)})

    async def respond(self, produce: Callable[[Store, Scope, str | None], Any]) -> None:
        """Run ``produce(store, scope, notebook)`` in the pool, inside the store's time bound.
        Everything that touches the filesystem (resolving paths too) happens there."""
        notebook_arg, db_arg = self.arg("notebook"), self.arg("db")
        scope = self.scope

        def work() -> Any:
            notebook = scope.request_path("notebook", notebook_arg)
            store = self.open_store(scope, notebook, db_arg)
            with store, store.time_bound(self.pool.timeout):
                return produce(store, scope, notebook)

        try:
            self.answer(await self.pool.run(work))
        except LineageError as exc:
            self.fail(exc)
        except OSError as exc:  # the filesystem refused (permissions, a vanished folder)
            self.set_status(503)
            self.answer({"code": "unreadable", "message": f"{exc.strerror or exc}."})
        except Exception:
            self.log.exception("jupyter-lineage: request failed")
            self.set_status(500)
            self.answer(
                {
                    "code": "internal_error",
                    "message": "jupyter-lineage failed on this request (a bug of ours; the "
                    "server log has the details).",
                }
            )


class RunsHandler(LineageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        limit = self.int_arg("limit", 50, 0, MAX_PAGE)
        offset = self.int_arg("offset", 0, 0, 10**9)
        where = self.get_query_arguments("where")

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            rows = queries.list_runs(
                store,
                notebook=notebook,
                limit=limit,
                offset=offset,
                where=where,
                within=scope.prefixes(),
            )
            return [r for r in rows if scope.inside(r["notebook"])]

        await self.respond(produce)


class RunHandler(LineageHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        members = self.arg("files") in ("1", "true")

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            return scope.check_run(queries.show_run(store, run_id, files=members), run_id)

        await self.respond(produce)


class EnvHandler(LineageHandler):
    """The run's packages as ``jupyter lineage env RUN --format F`` prints them."""

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        fmt = self.arg("format") or "requirements"

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            run = scope.check_run(queries.show_run(store, run_id), run_id)
            return env_file(run, fmt)

        await self.respond(produce)


class GraphHandler(LineageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        run, artifact, expand = self.arg("run"), self.arg("artifact"), self.arg("expand")
        depth = self.int_arg("depth", 2, 0, MAX_DEPTH)
        limit = self.int_arg("limit", graph.MAX_RUNS, 1, graph.MAX_GRAPH_RUNS)

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            if run:
                run_id = queries.resolve_run(store, run)
                scope.check_run({"notebook": run_notebooks(store, [run_id]).get(run_id)}, run)
            data = graph.build(
                store,
                notebook=None if run or artifact else notebook,
                run=run,
                artifact=artifact,
                expand=expand,
                depth=depth,
                limit=limit,
            )
            return scope.graph(data, keep=artifact)

        await self.respond(produce)


class DiffHandler(LineageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        a, b = self.arg("a"), self.arg("b")
        if not a or not b:
            self.fail(UsageError("Give the two runs to compare as ?a=RUN&b=RUN."))
            return

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            d = diff_mod.diff_runs(store, a, b)
            scope.check_run(d["a"], a)
            scope.check_run(d["b"], b)
            return d

        await self.respond(produce)


class StatusHandler(LineageHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            paths = written_paths(store, within=scope.prefixes(), limit=MAX_STATUS)
            if not paths:
                return []
            report = staleness.stale(store, sorted(paths))
            owners = run_notebooks(store, [i["run"] for i in report if i["run"]])
            return [i for i in report if scope.inside(owners.get(i["run"]))]

        await self.respond(produce)


class ModelsHandler(LineageHandler):
    """``jupyter lineage models --json``: the versions whose writing run's notebook is under
    the root."""

    @tornado.web.authenticated
    async def get(self) -> None:
        where, tag = self.get_query_arguments("where"), self.arg("tag")

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            rows = catalogue.models(store, where=where, tag=tag)
            return [m for m in rows if scope.inside(m["run"]["notebook"])]

        await self.respond(produce)


class ModelHandler(LineageHandler):
    """``jupyter lineage models show ARTIFACT --json``, by artifact id (or hash prefix)."""

    @tornado.web.authenticated
    async def get(self, artifact: str) -> None:
        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            found = catalogue.show(store, artifact)
            scope.check_run(found["run"], artifact)
            return found

        await self.respond(produce)


class PipelineHandler(LineageHandler):
    """``dag --format json``: the pipeline across the notebooks under the root, stale marked."""

    @tornado.web.authenticated
    async def get(self) -> None:
        raw_targets = self.get_query_arguments("target")
        env = self.arg("env") or "ignore"

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            from ..pipeline.plan import dag

            targets = [t for t in (scope.request_path("target", r) for r in raw_targets) if t]
            data = dag(store, targets, fmt="json", env=env)
            return scope.pipeline(data)

        await self.respond(produce)


class TraceHandler(LineageHandler):
    """``trace --json`` of one artifact version (by id): dataflow, or ``whole_run=1``;
    executions and runs of notebooks outside the root are left out."""

    @tornado.web.authenticated
    async def get(self) -> None:
        artifact = self.arg("artifact")
        if not artifact:
            self.fail(UsageError("Give the file version to trace as ?artifact=ID."))
            return
        downstream = self.arg("downstream") in ("1", "true")
        whole_run = self.arg("whole_run") in ("1", "true")
        raw_depth = self.arg("depth")
        depth = None if raw_depth is None else whole_number("depth", raw_depth, 0, MAX_DEPTH)
        raw_limit = self.arg("limit")
        limit = None if self.arg("all") in ("1", "true") else DEFAULT_LIMIT
        if raw_limit is not None and limit is not None:
            limit = whole_number("limit", raw_limit, 1)

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            from ..store import artifacts, lineage

            root = artifacts.artifact(store, artifact)
            if root is None:
                raise ArtifactNotFoundError(f"No artifact {artifact} in this lineage database.")
            data = lineage.trace(
                store, root, downstream=downstream, depth=depth, whole_run=whole_run, limit=limit
            )
            inside = {r["id"] for r in data["runs"] if scope.inside(r.get("notebook"))}
            if data["runs"] and not inside:
                raise ArtifactNotFoundError(f"No artifact {artifact} under this server's root.")
            data["runs"] = [r for r in data["runs"] if r["id"] in inside]
            data["nodes"] = [
                n for n in data["nodes"] if n["type"] != "execution" or n["run_id"] in inside
            ]
            kept = {n["id"] for n in data["nodes"]}
            data["edges"] = [
                e for e in data["edges"] if e["source"] in kept and e["target"] in kept
            ]
            linked = {x for e in data["edges"] for x in (e["source"], e["target"])}
            data["nodes"] = [  # files only hidden runs touched go with them
                n
                for n in data["nodes"]
                if n["type"] != "artifact" or n["id"] in linked or n["id"] == root["id"]
            ]
            data["view"] = "whole-run" if whole_run else "dataflow"
            return data

        await self.respond(produce)


class GatherHandler(LineageHandler):
    """``gather --json`` of one artifact version, with the notebook's JSON: the sidebar opens it
    as a new notebook through JupyterLab's own contents API (this API never writes)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        artifact = self.arg("artifact")
        if not artifact:
            self.fail(UsageError("Give the file version to gather as ?artifact=ID."))
            return

        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            from .. import gather
            from ..store import artifacts

            root = artifacts.artifact(store, artifact)
            if root is None:
                raise ArtifactNotFoundError(f"No artifact {artifact} in this lineage database.")
            data = gather.plan_for(store, root)
            scope.check_run({"notebook": data["notebook"]}, artifact)
            data["notebook_json"] = json.loads(gather.notebook_text(data))
            data["name"] = gather.default_output(data["target"]["path"])
            return data

        await self.respond(produce)


class StaleCellsHandler(LineageHandler):
    """``status --cells --json`` of the notebook asked for (inside the root)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        def produce(store: Store, scope: Scope, notebook: str | None) -> Any:
            if notebook is None:
                raise UsageError("Give the notebook as ?notebook=PATH (relative to the root).")
            return staleness.stale_cells(store, notebook)

        await self.respond(produce)


ROUTES = [
    (r"runs", RunsHandler),
    (r"runs/([0-9a-fA-F-]{1,36})", RunHandler),
    (r"runs/([0-9a-fA-F-]{1,36})/env", EnvHandler),
    (r"graph", GraphHandler),
    (r"diff", DiffHandler),
    (r"status", StatusHandler),
    (r"models", ModelsHandler),
    (r"models/([0-9a-f]{6,64})", ModelHandler),
    (r"pipeline", PipelineHandler),
    (r"trace", TraceHandler),
    (r"gather", GatherHandler),
    (r"cells/stale", StaleCellsHandler),
]


def setup_handlers(serverapp: Any) -> None:
    web_app = serverapp.web_app
    settings = web_app.settings
    base = url_path_join(settings["base_url"], "lineage", "api")
    settings.setdefault("lineage_db", os.environ.get("JUPYTER_LINEAGE_DB") or None)
    if settings["lineage_db"]:
        settings["lineage_db"] = str(Path(settings["lineage_db"]).expanduser().absolute())
    settings["lineage_pool"] = Pool(
        workers=settings.get("lineage_workers", WORKERS),
        timeout=settings.get("lineage_request_timeout", TIMEOUT_SECONDS),
    )
    web_app.add_handlers(".*$", [(url_path_join(base, path), handler) for path, handler in ROUTES])
