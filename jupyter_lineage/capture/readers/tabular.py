"""Table readers and writers that open files in C or C++: pandas' parquet/feather/ORC/HDF5 and
Arrow's parquet, feather, datasets, CSV and JSON (polars and DuckDB have modules of their own).

A folder or glob given to a reader of partitioned data stands for every file in it; a folder
written (``partition_cols``, ``write_to_dataset``) for every file the call wrote.
"""

from __future__ import annotations

from .spec import Spec


def _read(library: str, module: str, target: str, arg: int = 0, keyword: str = "source") -> Spec:
    return Spec(library, module, target, "read", "dataset", arg, keyword, expand=True)


def _write(library: str, module: str, target: str, arg: int, keyword: str) -> Spec:
    return Spec(library, module, target, "write", "dataset", arg, keyword, expand=True)


PANDAS = (
    _read("pandas", "pandas", "read_parquet", 0, "path"),
    _read("pandas", "pandas", "read_feather", 0, "path"),
    _read("pandas", "pandas", "read_orc", 0, "path"),
    _read("pandas", "pandas", "read_hdf", 0, "path_or_buf"),
    _write("pandas", "pandas", "DataFrame.to_hdf", 1, "path_or_buf"),
    _write("pandas", "pandas", "DataFrame.to_parquet", 1, "path"),
    _write("pandas", "pandas", "DataFrame.to_feather", 1, "path"),
    _write("pandas", "pandas", "DataFrame.to_orc", 1, "path"),
)
PYARROW = (
    _read("pyarrow", "pyarrow.parquet", "read_table"),
    _read("pyarrow", "pyarrow.parquet", "read_pandas"),
    _read("pyarrow", "pyarrow.parquet", "ParquetFile.__init__", 1),
    _write("pyarrow", "pyarrow.parquet", "write_table", 1, "where"),
    _write("pyarrow", "pyarrow.parquet", "write_to_dataset", 1, "root_path"),
    _read("pyarrow", "pyarrow.feather", "read_table"),
    _read("pyarrow", "pyarrow.feather", "read_feather"),
    _write("pyarrow", "pyarrow.feather", "write_feather", 1, "dest"),
    _read("pyarrow", "pyarrow.dataset", "dataset"),
    _write("pyarrow", "pyarrow.dataset", "write_dataset", 1, "base_dir"),
    _read("pyarrow", "pyarrow.csv", "read_csv", 0, "input_file"),
    _read("pyarrow", "pyarrow.csv", "open_csv", 0, "input_file"),
    _write("pyarrow", "pyarrow.csv", "write_csv", 1, "output_file"),
    _read("pyarrow", "pyarrow.json", "read_json", 0, "input_file"),
    _read("pyarrow", "pyarrow.orc", "read_table"),
    _write("pyarrow", "pyarrow.orc", "write_table", 1, "where"),
)

SPECS = (*PANDAS, *PYARROW)
