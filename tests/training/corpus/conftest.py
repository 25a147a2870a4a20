import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

PARAGRAPH = (
    "The library opened a new reading room on the second floor of the old building, and the staff moved the "
    "history collection there so that students could work with the maps and letters in one place. "
)


def prose(topic: str, sentences: int = 12) -> str:
    """English prose long enough to pass the default filters, distinct per topic."""
    lines = [
        f"This note about {topic} explains why the work matters and how the team went about it in {topic}.",
        *(f"In part {i} of the {topic} story, {PARAGRAPH.lower()}" for i in range(sentences)),
    ]
    return "\n\n".join(lines)


@pytest.fixture
def corpus_dir(tmp_path):
    """A folder of every local format: txt, md, jsonl (text + id fields), parquet, a nested folder, and noise."""
    root = tmp_path / "corpus"
    (root / "nested").mkdir(parents=True)
    (root / "a.txt").write_text(prose("astronomy"), encoding="utf-8")
    (root / "b.md").write_text("# Title\n\n" + prose("botany"), encoding="utf-8")
    (root / "nested" / "c.txt").write_text(prose("chemistry"), encoding="utf-8")
    rows = [{"id": f"row{i}", "body": prose(topic)} for i, topic in enumerate(["dance", "economics", "farming"])]
    rows.append({"id": "dup", "body": prose("astronomy")})  # an exact duplicate of a.txt
    (root / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    table = pa.table({"content": [prose("geology"), prose("history"), None], "key": ["g", "h", "n"]})
    pq.write_table(table, root / "e.parquet")
    (root / ".hidden.txt").write_text(prose("hidden"), encoding="utf-8")
    (root / "notes.csv").write_text("not,read\n", encoding="utf-8")
    return root
