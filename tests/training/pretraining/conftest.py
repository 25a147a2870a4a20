import json
import shutil

import numpy as np
import pytest


@pytest.fixture(scope="session")
def token_shards(tmp_path_factory, tiny_lm_dir):
    """Token shards in the plumbline.tokens/1 layout, from local docstrings and the tiny test tokenizer."""
    from transformers import AutoTokenizer

    from tests.tiny_lm import local_text

    root = tmp_path_factory.mktemp("shards")
    tokenizer = AutoTokenizer.from_pretrained(tiny_lm_dir)
    shutil.copytree(tiny_lm_dir, root / "tokenizer", ignore=shutil.ignore_patterns("*.safetensors", "config.json"))
    folder = root / "tokens"
    folder.mkdir()
    docs = local_text()
    splits = {"train": docs[: int(len(docs) * 0.9)], "validation": docs[int(len(docs) * 0.9) :]}
    meta = {"format": "plumbline.tokens/1", "dtype": "uint16", "vocab_size": len(tokenizer), "splits": {}}
    for split, texts in splits.items():
        ids, starts = [], []
        for text in texts:
            starts.append(len(ids))
            ids.extend([*tokenizer(text, add_special_tokens=False).input_ids, tokenizer.eos_token_id])
        np.asarray(ids, dtype=np.uint16).tofile(folder / f"{split}.bin")
        np.save(folder / f"{split}.idx.npy", np.asarray(starts, dtype=np.int64))
        np.save(folder / f"{split}.difficulty.npy", np.asarray([len(t) for t in texts], dtype=np.float64))
        meta["splits"][split] = {"tokens": len(ids), "documents": len(texts)}
    meta.update(tokenizer="../tokenizer", eos_id=tokenizer.eos_token_id, bos_id=tokenizer.bos_token_id)
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder
