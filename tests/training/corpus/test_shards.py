"""Shard tables built from buffers hold what pyarrow's own conversion would, without importing pandas."""

import subprocess
import sys

import pyarrow as pa

from training.corpus.shards import SCHEMA, rows_table


def _columns() -> dict[str, list]:
    return {
        "id": ["a", "b", "c"],
        "text": ["plain", "caf\u00e9 \u65e5\u672c \U0001f600", ""],
        "source": ["files:x", "files:x", "pydocs"],
        "split": ["train", "test", "validation"],
        "difficulty": [0.5, 0.125, 0.0],
        "flags": [[], ["pii_redacted", "harmful"], ["harmful"]],
        "n_chars": [5, 11, 0],
    }


def test_rows_table_equals_pyarrows_conversion():
    table = rows_table(_columns())
    assert table.schema == SCHEMA
    assert table.equals(pa.Table.from_pydict(_columns(), schema=SCHEMA))
    assert rows_table({name: [] for name in SCHEMA.names}).num_rows == 0


def test_writing_and_regrouping_shards_leaves_pandas_unimported(tmp_path):
    code = f"""
import sys
from pathlib import Path
from training.corpus.shards import build_dataset, commit_shard, rows_table, write_table
columns = {_columns()!r}
work = Path({str(tmp_path)!r})
commit_shard(work, 0, lambda folder: write_table(rows_table(columns), folder / "rows.parquet"))
(work / "out").mkdir()
splits = build_dataset(work, 1, work / "out", 10)
assert splits["train"]["documents"] == 1 and splits["test"]["bytes"] == len(columns["text"][1].encode())
print("pandas" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
