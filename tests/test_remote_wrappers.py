"""A library whose API is not the one expected: one warning naming it, nothing else breaks."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from jupyter_lineage.capture.accesses import Accesses
from jupyter_lineage.capture.hashcache import HashCache
from jupyter_lineage.capture.noise import NoiseFilter
from jupyter_lineage.capture.remote import RemoteWrappers


def test_a_changed_client_api_is_one_warning_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    said: list[tuple[str, str]] = []
    accesses = Accesses(NoiseFilter(), HashCache(), lambda kind, msg: said.append((kind, msg)))
    # An httpx without Client/AsyncClient: what a future release might look like.
    monkeypatch.setitem(__import__("sys").modules, "httpx", types.ModuleType("httpx"))
    wrappers = RemoteWrappers(accesses, lambda kind, msg: said.append((kind, msg)))
    try:
        wrappers.poll()
        wrappers.poll()  # once, not at every cell
    finally:
        wrappers.remove()
    assert [kind for kind, _ in said] == ["wrap-httpx"]
    assert "httpx is not tracked" in said[0][1]
