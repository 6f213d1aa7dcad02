"""OpenLineage RunEvents (START, then COMPLETE or FAIL) built with openlineage-python's models,
so backends like Marquez or DataHub receive exactly what the spec describes."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import attr
from openlineage.client.event_v2 import (
    InputDataset,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
)
from openlineage.client.facet_v2 import (
    DatasetFacet,
    RunFacet,
    error_message_run,
    parent_run,
    processing_engine_run,
    source_code_location_job,
)
from openlineage.client.serde import Serde

from .._version import __version__
from .bundle import Bundle

PRODUCER = "https://github.com/jupyter-lineage/jupyter-lineage"
NAMESPACE = os.environ.get("JUPYTER_LINEAGE_NAMESPACE", "jupyter-lineage")


@attr.define
class ParametersRunFacet(RunFacet):
    """The run's parameters, exactly as given (papermill's injected values)."""

    parameters: dict[str, Any] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return PRODUCER + "/blob/main/docs/openlineage-facets.json#/$defs/ParametersRunFacet"


@attr.define
class EnvironmentRunFacet(RunFacet):
    """Python, platform and installed distributions (never environment variables)."""

    python: str | None = None
    platform: str | None = None
    packages: dict[str, str] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return PRODUCER + "/blob/main/docs/openlineage-facets.json#/$defs/EnvironmentRunFacet"


@attr.define
class TagsDatasetFacet(DatasetFacet):
    """The names this dataset version holds in the model catalogue (``jupyter lineage tag``)."""

    tags: list[dict[str, Any]] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return PRODUCER + "/blob/main/docs/openlineage-facets.json#/$defs/TagsDatasetFacet"


def _output(f: dict[str, Any]) -> OutputDataset:
    facets: dict[str, Any] = {}
    if f.get("tags"):
        facets["jupyterLineage_tags"] = TagsDatasetFacet(
            tags=[{"name": t["name"], "created": t["created"]} for t in f["tags"]]
        )
    return OutputDataset(*dataset_name(f["path"]), facets=facets)


def dataset_name(path: str) -> tuple[str, str]:
    """(namespace, name): ``file`` and the path, or a URL's scheme://host and its path."""
    if "://" in path:
        parts = urlsplit(path)
        name = parts.path + (f"?{parts.query}" if parts.query else "")
        return f"{parts.scheme}://{parts.netloc}", name or "/"
    return "file", path


def job_name(run: dict[str, Any]) -> str:
    notebook = run["notebook"] or run["kind"]
    root = (run.get("git") or {}).get("root")
    if root and notebook.startswith(root.rstrip("/") + "/"):
        return notebook[len(root.rstrip("/")) + 1 :]
    return notebook


def events(run: dict[str, Any]) -> list[RunEvent]:
    job_facets: dict[str, Any] = {}
    git = run.get("git") or {}
    if git.get("commit"):
        url = git.get("remote") or f"file://{git.get('root')}"
        job_facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type="git",
            url=url,
            repoUrl=git.get("remote"),
            path=job_name(run),
            version=git["commit"],
            branch=git.get("branch"),
        )
    job = Job(namespace=NAMESPACE, name=job_name(run), facets=job_facets)
    env = run.get("environment") or {}
    facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=str(env.get("python") or ""),
            name="python",
            openlineageAdapterVersion=__version__,
        ),
        "jupyterLineage_parameters": ParametersRunFacet(parameters=run["parameters"]),
        "jupyterLineage_environment": EnvironmentRunFacet(
            python=env.get("python"), platform=env.get("platform"), packages=env.get("packages", {})
        ),
    }
    if run["parent_id"]:
        facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=run["parent_id"]),
            job=parent_run.Job(namespace=NAMESPACE, name=job_name(run)),
        )
    inputs = [InputDataset(*dataset_name(f["path"])) for f in run["files_read"]]
    outputs = [_output(f) for f in run["files_written"]]
    out = [
        RunEvent(
            eventType=RunState.START,
            eventTime=run["started"],
            producer=PRODUCER,
            run=Run(runId=run["id"], facets=facets),
            job=job,
            inputs=inputs,
        )
    ]
    if run["status"] in ("succeeded", "failed", "interrupted"):
        end_facets = dict(facets)
        if run["error"]:
            end_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=f"{run['error']['name']}: {run['error']['value']}",
                programmingLanguage="python",
            )
        state = RunState.COMPLETE if run["status"] == "succeeded" else RunState.FAIL
        out.append(
            RunEvent(
                eventType=state,
                eventTime=run["ended"] or run["started"],
                producer=PRODUCER,
                run=Run(runId=run["id"], facets=end_facets),
                job=job,
                inputs=inputs,
                outputs=outputs,
            )
        )
    return out


def to_dicts(bundle: Bundle) -> list[dict[str, Any]]:
    return [Serde.to_dict(e) for run in bundle.runs for e in events(run)]


def render_openlineage(bundle: Bundle) -> str:
    """One event per line (JSON Lines), the format OpenLineage file transports write."""
    return "".join(json.dumps(d, sort_keys=True) + "\n" for d in to_dicts(bundle))


def emit(
    bundle: Bundle, url: str, *, endpoint: str = "api/v1/lineage", api_key: str | None = None
) -> int:
    """POST every event to an OpenLineage backend through the client's HTTP transport."""
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    config = HttpConfig(url=url, endpoint=endpoint)
    if api_key:
        config.auth = ApiKeyTokenProvider({"apiKey": api_key})
    client = OpenLineageClient(transport=HttpTransport(config))
    count = 0
    for run in bundle.runs:
        for event in events(run):
            client.emit(event)
            count += 1
    return count
