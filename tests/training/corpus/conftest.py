import json
import random
import zlib

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

_VOCAB = [
    "river", "mountain", "window", "library", "garden", "teacher", "number", "system", "picture", "morning", "reason",
    "market", "engine", "sister", "letter", "planet", "summer", "forest", "answer", "bridge", "doctor", "animal",
    "silver", "pocket", "button", "travel", "winter", "yellow", "basket", "candle", "circle", "mirror", "harbor",
    "village", "kitchen", "student", "journey", "theater", "museum", "orchard", "meadow", "council", "lantern",
]  # fmt: skip
_FUNCTION = ["the", "of", "and", "to", "with", "that", "in", "a", "for", "on", "by", "from", "near", "was", "is"]


def prose(topic: str, sentences: int = 24) -> str:
    """Varied English prose that passes the default filters, different (and deterministic) for every topic."""
    rng = random.Random(zlib.crc32(topic.encode()))
    out = [f"This note is about {topic}, and it explains why the work matters to the people of the town."]
    for _ in range(sentences):
        words = [rng.choice(_FUNCTION if rng.random() < 0.35 else _VOCAB) for _ in range(rng.randint(8, 14))]
        out.append(" ".join(words).capitalize() + ".")
    return "\n\n".join(" ".join(out[i : i + 3]) for i in range(0, len(out), 3))


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
