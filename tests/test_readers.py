"""The reader registry: built-in specs, third-party specs from the ``jupyter_lineage.readers``
entry points, and what a spec that no longer fits its library does (one warning, the call runs)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from jupyter_lineage.capture.readers.catalog import BUILTIN, GROUP
from jupyter_lineage.capture.readers.spec import members

from .conftest import lineage_json
from .kernel import Kernel

PLUGIN = """
from jupyter_lineage.capture.readers import Spec

def _fail(args, kwargs):
    raise RuntimeError("layout changed")

SPECS = [
    Spec("weightlib", "weightlib", "load_weights", "read", "model", 0, "path"),
    Spec("weightlib", "weightlib", "Store.save", "write", "model", 1, "path"),
    Spec("weightlib", "weightlib", "gone"),
    Spec("otherlib", "weightlib", "odd", targets=_fail),
]
"""

LIBRARY = """
import os

def load_weights(path):  # opens nothing through Python: only its spec can see it
    return os.path.getsize(path)

def odd(path):
    return "ran"

class Store:
    def save(self, path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT)
        os.close(fd)
"""


@pytest.fixture
def plugin_site(tmp_path: Path) -> Path:
    """A package installed the way pip installs one: code plus a dist-info with entry points."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "weightlib.py").write_text(textwrap.dedent(LIBRARY))
    (site / "weightlib_lineage.py").write_text(textwrap.dedent(PLUGIN))
    (site / "broken_lineage.py").write_text("raise ImportError('needs a newer weightlib')\n")
    info = site / "weightlib_lineage-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: weightlib-lineage\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[{GROUP}]\nweightlib = weightlib_lineage:SPECS\nbroken = broken_lineage:SPECS\n"
    )
    return site


def test_a_third_party_spec_is_installed_from_its_entry_point(
    kernel: Kernel, project: Path, plugin_site: Path
) -> None:
    (project / "weights.bin").write_bytes(b"\0" * 64)
    kernel.check(f"import sys\nsys.path.insert(0, {str(plugin_site)!r})")
    loaded = kernel.check("%load_ext jupyter_lineage")
    assert loaded.stderr.count("broken_lineage:SPECS") == 1, loaded.stderr
    assert "needs a newer weightlib" in loaded.stderr
    imported = kernel.check("import weightlib", cell_id="import")
    # a spec naming what the library does not have: one warning naming the library
    assert imported.stderr.count("weightlib.gone") == 1, imported.stderr
    kernel.check("n = weightlib.load_weights('weights.bin')", cell_id="load")
    kernel.check("weightlib.Store().save('saved.bin')", cell_id="save")
    odd = kernel.check("r = weightlib.odd('weights.bin')\nprint(r)", cell_id="odd")
    assert odd.stdout.strip() == "ran"  # the call ran although its spec failed...
    assert odd.stderr.count("jupyter-lineage warning") == 1  # ...said once, naming the library
    assert "otherlib" in odd.stderr and "layout changed" in odd.stderr
    again = kernel.check("r = weightlib.odd('weights.bin')", cell_id="odd-again")
    assert "jupyter-lineage warning" not in again.stderr
    cells = {e["cell_id"]: e for e in lineage_json("show", "@last")["executions"]}
    assert [(r["path"], r["kind"]) for r in cells["load"]["reads"]] == [
        (str(project / "weights.bin"), "model")
    ]
    assert [w["path"] for w in cells["save"]["writes"]] == [str(project / "saved.bin")]
    kernel.check("%unload_ext jupyter_lineage")
    restored = kernel.check("print(hasattr(weightlib.load_weights, '__wrapped__'))")
    assert restored.stdout.strip() == "False"


def test_every_builtin_spec_names_a_library_module_and_a_role() -> None:
    assert len({s.name for s in BUILTIN}) == len(BUILTIN)  # no spec twice
    for spec in BUILTIN:
        assert spec.role in ("read", "write"), spec
        assert spec.targets is not None or spec.arg is not None or spec.keyword, spec


def test_a_folder_or_glob_stands_for_its_data_files(tmp_path: Path) -> None:
    for rel in ("year=2024/a.parquet", "year=2025/b.parquet", "_SUCCESS", ".part.crc"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    expected = [str(tmp_path / "year=2024/a.parquet"), str(tmp_path / "year=2025/b.parquet")]
    assert members(str(tmp_path)) == expected
    assert members(str(tmp_path / "*" / "*.parquet")) == expected
    assert members(str(tmp_path / "year=2024/a.parquet")) == expected[:1]
