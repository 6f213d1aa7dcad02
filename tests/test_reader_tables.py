"""polars, DuckDB and Arrow against the real libraries, interactively and as a pipeline: what
each call read and wrote, folders and globs as their member files."""

from __future__ import annotations

from pathlib import Path

import pytest

from .kernel import Kernel
from .readers_helpers import files, maybe_kernel, need, run_cells

__all__ = ["maybe_kernel"]  # the fixture

MODES = ["interactive", "pipeline"]


@pytest.mark.parametrize("mode", MODES)
def test_polars_eager_lazy_and_sinks(mode: str, project: Path, maybe_kernel: Kernel | None) -> None:
    need("polars")
    show = run_cells(
        mode,
        [
            "import polars as pl, os\nos.makedirs('parts', exist_ok=True)\n"
            "pl.DataFrame({'a': [1, 2]}).write_parquet('parts/p1.parquet')\n"
            "pl.DataFrame({'a': [5]}).write_parquet('parts/p2.parquet')\n"
            "pl.DataFrame({'a': [1, 5], 'c': ['x', 'y']}).write_csv('labels.csv')",
            "df = pl.read_parquet('parts/*.parquet')",
            "lf = pl.scan_parquet('parts/').join(pl.scan_csv('labels.csv'), on='a')",
            "out = lf.collect()\nassert out.height == 2",
            "lf.filter(pl.col('a') > 1).sink_parquet('joined.parquet')",
            "pl.read_csv('labels.csv').write_ipc('labels.arrow')",
        ],
        project,
        maybe_kernel,
    )
    p1, p2, labels = (
        str(project / p) for p in ("parts/p1.parquet", "parts/p2.parquet", "labels.csv")
    )
    assert files(show, 0, "write") == {p1: "dataset", p2: "dataset", labels: "dataset"}
    assert files(show, 1, "read") == {p1: "dataset", p2: "dataset"}
    assert files(show, 2, "read") == {}  # a scan reads nothing until the query runs...
    assert files(show, 3, "read") == {p1: "dataset", p2: "dataset", labels: "dataset"}  # ...here
    assert set(files(show, 4, "read")) == {p1, p2, labels}
    assert files(show, 4, "write") == {str(project / "joined.parquet"): "dataset"}
    assert set(files(show, 5, "read")) == {labels}
    assert set(files(show, 5, "write")) == {str(project / "labels.arrow")}


@pytest.mark.parametrize("mode", MODES)
def test_duckdb_sql_files_copy_and_databases(
    mode: str, project: Path, maybe_kernel: Kernel | None
) -> None:
    need("duckdb")
    show = run_cells(
        mode,
        [
            "import duckdb\n"
            "duckdb.sql(\"COPY (SELECT 1 AS a, 'x' AS b) TO 'one.parquet' (FORMAT PARQUET)\")\n"
            "duckdb.sql(\"COPY (SELECT 2 AS a, 'y' AS b) TO 'two.csv' (HEADER)\")",
            "rows = duckdb.sql(\"SELECT * FROM 'one.parquet' WHERE b <> '2024-01-01' UNION ALL "
            "SELECT * FROM read_csv_auto('two.csv')\").fetchall()\nassert len(rows) == 2",
            "rel = duckdb.read_csv('two.csv')\nrel.write_parquet('again.parquet')",
            "con = duckdb.connect('warehouse.duckdb')\n"
            "con.execute(\"CREATE TABLE t AS SELECT * FROM read_parquet('*.parquet')\")\n"
            "con.close()",
            "con = duckdb.connect('warehouse.duckdb', read_only=True)\n"
            "n = con.sql('SELECT count(*) FROM t').fetchall()[0][0]\ncon.close()\nassert n == 2",
        ],
        project,
        maybe_kernel,
    )
    one, two, again, db = (
        str(project / p) for p in ("one.parquet", "two.csv", "again.parquet", "warehouse.duckdb")
    )
    assert files(show, 0, "write") == {one: "dataset", two: "dataset"}
    assert files(show, 1, "read") == {one: "dataset", two: "dataset"}
    assert files(show, 2, "read") == {two: "dataset"}
    assert files(show, 2, "write") == {again: "dataset"}
    assert files(show, 3, "read") == {one: "dataset", again: "dataset"}
    assert files(show, 3, "write") == {db: "dataset"}
    assert files(show, 4, "read") == {db: "dataset"}
    assert files(show, 4, "write") == {}


@pytest.mark.parametrize("mode", MODES)
def test_arrow_datasets_csv_json_and_pandas_on_folders(
    mode: str, project: Path, maybe_kernel: Kernel | None
) -> None:
    need("pyarrow")
    show = run_cells(
        mode,
        [
            "import pandas as pd, pyarrow as pa, pyarrow.dataset as ds, pyarrow.csv as pcsv\n"
            "import pyarrow.json as pjson\n"
            "table = pa.table({'year': [2024, 2024, 2025], 'v': [1, 2, 3]})\n"
            "ds.write_dataset(table, 'sales', format='parquet', partitioning=['year'], partitioning_flavor='hive')\n"
            "pcsv.write_csv(table, 'sales.csv')\n"
            "open('rows.jsonl', 'w').write('{\"v\": 1}\\n{\"v\": 2}\\n')",
            "t = ds.dataset('sales', format='parquet', partitioning='hive').to_table()",
            "c = pcsv.read_csv('sales.csv')\nj = pjson.read_json('rows.jsonl')",
            "df = pd.read_parquet('sales')\nassert len(df) == 3",
            "df.to_parquet('by_year', partition_cols=['year'])",
        ],
        project,
        maybe_kernel,
    )
    parts = {str(p) for p in (project / "sales").rglob("*.parquet")}
    assert len(parts) == 2
    assert set(files(show, 0, "write")) == parts | {
        str(project / "sales.csv"),
        str(project / "rows.jsonl"),
    }
    assert set(files(show, 1, "read")) == parts
    assert set(files(show, 2, "read")) == {str(project / "sales.csv"), str(project / "rows.jsonl")}
    assert set(files(show, 3, "read")) == parts  # a partitioned folder: every member file
    written = {str(p) for p in (project / "by_year").rglob("*.parquet")}
    assert len(written) == 2 and set(files(show, 4, "write")) == written
