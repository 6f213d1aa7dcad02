"""The model catalogue's REST mirrors against a real jupyter_server, on a store made by real
capture (in-process trackers)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jupyter_lineage import api

from .test_server import _error, _get, recorded  # noqa: F401  (the fixture)

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_lineage": True}}}


async def test_models_and_one_model_mirror_the_cli(
    jp_fetch: Any,
    recorded: dict[str, Any],  # noqa: F811
) -> None:
    root: Path = recorded["root"]
    db = str(root / ".lineage" / "lineage.db")
    api.tag(str(root / "model.pkl"), "production", db=db)
    listed = await _get(jp_fetch, "models", notebook="nb.ipynb")
    assert listed == json.loads(json.dumps(api.models(db=db), default=str))
    assert [m["run"]["id"] for m in listed] == recorded["ids"][::-1]
    assert listed[0]["tags"] == ["production"] and listed[0]["state"] == "current"
    assert listed[1]["state"] == "replaced"
    assert listed[0]["parameters"] == {"alpha": 0.7}
    tagged = await _get(jp_fetch, "models", notebook="nb.ipynb", tag="production")
    assert [m["hash"] for m in tagged] == [listed[0]["hash"]]
    assert await _get(jp_fetch, "models", notebook="nb.ipynb", where="params.alpha = 0.5") == [
        listed[1]
    ]

    one = await _get(jp_fetch, "models", listed[1]["artifact"], notebook="nb.ipynb")
    assert one["hash"] == listed[1]["hash"] and one["run"]["id"] == recorded["ids"][0]
    assert [v["hash"] for v in one["versions"]] == [listed[0]["hash"], listed[1]["hash"]]
    assert {i["path"] for i in one["inputs"]} == {str(root / "data.csv")}

    code, body = await _error(jp_fetch, "models", "abcdef0123", notebook="nb.ipynb")
    assert code == 404 and body["code"] == "artifact_not_found"
    code, body = await _error(jp_fetch, "models", notebook="nb.ipynb", tag="no good")
    assert code == 400 and "tag name" in body["message"]
