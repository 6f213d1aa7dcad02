"""W3C PROV-JSON: artifacts are entities, runs and executions activities, people and
jupyter-lineage agents; used / wasGeneratedBy / wasInformedBy / wasDerivedFrom link them."""

from __future__ import annotations

import json
from typing import Any

from .._version import __version__
from .bundle import Bundle, artifact_key

NS = "lineage"


def _e(key: str) -> str:
    return f"{NS}:artifact-{key}"


def render_prov(bundle: Bundle) -> str:
    doc: dict[str, Any] = {
        "prefix": {NS: "urn:jupyter-lineage:"},
        "entity": {},
        "activity": {},
        "agent": {},
        "used": {},
        "wasGeneratedBy": {},
        "wasInformedBy": {},
        "wasDerivedFrom": {},
        "wasAssociatedWith": {},
    }
    software = f"{NS}:software-jupyter-lineage"
    doc["agent"][software] = {"prov:type": "prov:SoftwareAgent", f"{NS}:version": __version__}
    n = 0

    def rel(kind: str, body: dict[str, Any]) -> None:
        nonlocal n
        n += 1
        doc[kind][f"_:{kind[0:3]}{n}"] = body

    for f in bundle.artifacts().values():
        doc["entity"][_e(artifact_key(f))] = {
            "prov:label": f["path"],
            f"{NS}:path": f["path"],
            f"{NS}:hash": f["hash"] or "",
            f"{NS}:kind": f["kind"],
        }
    for run in bundle.runs:
        run_act = f"{NS}:run-{run['id']}"
        body = {
            "prov:type": f"{NS}:{run['kind']}",
            "prov:label": run["notebook"] or run["kind"],
            "prov:startTime": run["started"],
            f"{NS}:status": run["status"],
        }
        if run["ended"]:
            body["prov:endTime"] = run["ended"]
        for name, value in run["parameters"].items():
            body[f"{NS}:param-{name}"] = json.dumps(value)
        doc["activity"][run_act] = body
        rel("wasAssociatedWith", {"prov:activity": run_act, "prov:agent": software})
        if run["user"]:
            person = f"{NS}:user-{run['user']}"
            doc["agent"][person] = {"prov:type": "prov:Person", "prov:label": run["user"]}
            rel("wasAssociatedWith", {"prov:activity": run_act, "prov:agent": person})
        if run["parent_id"]:
            rel(
                "wasInformedBy",
                {"prov:informed": run_act, "prov:informant": f"{NS}:run-{run['parent_id']}"},
            )
        previous = None
        reads_so_far: list[str] = []
        for e in run["executions"]:
            act = f"{NS}:execution-{e['id']}"
            doc["activity"][act] = {
                "prov:type": f"{NS}:execution",
                f"{NS}:run": run["id"],
                f"{NS}:cell_id": e["cell_id"] or "",
                "prov:startTime": e["started"],
                "prov:label": (e["source"].splitlines() or [""])[0][:80],
            }
            rel("wasInformedBy", {"prov:informed": act, "prov:informant": previous or run_act})
            previous = act
            for f in e["reads"]:
                rel("used", {"prov:activity": act, "prov:entity": _e(artifact_key(f))})
                reads_so_far.append(_e(artifact_key(f)))
            for f in e["writes"]:
                made = _e(artifact_key(f))
                rel("wasGeneratedBy", {"prov:entity": made, "prov:activity": act})
                for source in dict.fromkeys(reads_so_far):
                    rel(
                        "wasDerivedFrom",
                        {
                            "prov:generatedEntity": made,
                            "prov:usedEntity": source,
                            "prov:activity": act,
                        },
                    )
    return json.dumps({k: v for k, v in doc.items() if v or k == "prefix"}, indent=2) + "\n"
