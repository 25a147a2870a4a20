"""Token shards for the pretraining benchmarks, built from what every machine has: no downloads, no Django.

Two kinds, both in the ``plumbline.tokens/1`` layout the pretrain runner reads (see training/tokenization/packing.py):

- ``docstring_shards``: a byte-level BPE tokenizer trained on the standard library's docstrings (extracted with the
  same scanner the pydocs corpus uses), and those docstrings packed into train/validation splits. Real text, so the
  loss curve is meaningful; the CPU benchmark uses it.
- ``random_token_shards``: uniformly random ids for a tokenizer whose vocabulary is exactly ``vocab_size`` (GPT-2's
  50304, padded to a multiple of 128). Throughput does not depend on what the tokens say, and building them takes a
  second on any machine, which is what a GPU session with minutes of device time needs.

Both are cached under ``var/bench/shards/<key>/`` (the key names every parameter), so repeated runs build once.
"""

from __future__ import annotations

import json
import os
import shutil
import sysconfig
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "bench" / "shards"
SPECIAL = ["<|pad|>", "<|bos|>", "<|eos|>", "<|unk|>", "<|system|>", "<|user|>", "<|assistant|>"]
TOKENS_FORMAT = "plumbline.tokens/1"


def stdlib_documents(max_bytes: int) -> list[str]:
    """One document per standard-library module (its docstrings in source order), sorted by path, up to
    ``max_bytes`` of text: deterministic on a given Python version."""
    import sys

    sys.path.insert(0, str(REPO))
    from training.corpus.docstrings import module_document

    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idle_test", "__pycache__", "site-packages", "dist-packages", "lib-dynload"}
    docs, total = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith(("config-", ".")))
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).with_suffix("")
            module = ".".join(p for p in rel.parts if p != "__init__")
            try:
                text = module_document(module, path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, OSError):
                continue
            if len(text) < 200:
                continue
            docs.append(text)
            total += len(text.encode("utf-8"))
            if total >= max_bytes:
                return docs
    return docs


def _fast_tokenizer(tok):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>", unk_token="<|unk|>"
    )


def train_bpe(texts: list[str], vocab_size: int):
    """A byte-level BPE (GPT-2 style) trained on ``texts``, specials first (pad 0, bos 1, eos 2, unk 3)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return _fast_tokenizer(tok)


def byte_pair_tokenizer(vocab_size: int):
    """A byte-level BPE with exactly ``vocab_size`` entries and no training: the specials, the 256 byte symbols,
    then merges of byte pairs in a fixed order. Only its size matters to a throughput run (the model's embedding
    and head are ``vocab_size`` wide); it still encodes and decodes any text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {s: i for i, s in enumerate(SPECIAL)}
    for symbol in alphabet:
        vocab[symbol] = len(vocab)
    merges = []
    for a in alphabet:
        for b in alphabet:
            if len(vocab) >= vocab_size:
                break
            merges.append((a, b))
            vocab[a + b] = len(vocab)
    if len(vocab) != vocab_size:
        raise ValueError(f"vocab_size must lie in [{len(SPECIAL) + 256}, {len(SPECIAL) + 256 + 256 * 256}]")
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<|unk|>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL)
    return _fast_tokenizer(tok)


def write_shards(folder: Path, tokenizer, splits: dict[str, list[np.ndarray]], difficulty: dict | None = None) -> Path:
    """``tokens/`` next to ``tokenizer/`` in ``folder``; each split is a list of documents' ids (EOS appended)."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer.save_pretrained(tmp / "tokenizer")
    tokens = tmp / "tokens"
    tokens.mkdir(parents=True)
    dtype = np.uint16 if len(tokenizer) <= 65535 else np.uint32
    meta = {
        "format": TOKENS_FORMAT,
        "dtype": np.dtype(dtype).name,
        "vocab_size": len(tokenizer),
        "eos_id": tokenizer.eos_token_id,
        "bos_id": tokenizer.bos_token_id,
        "tokenizer": "../tokenizer",
        "order": "as-prepared",
        "splits": {},
    }
    for split, docs in splits.items():
        eos = np.asarray([tokenizer.eos_token_id], dtype=dtype)
        parts = [np.concatenate([np.asarray(d, dtype=dtype), eos]) for d in docs]
        starts = np.cumsum([0] + [len(p) for p in parts[:-1]]).astype(np.int64)
        np.concatenate(parts).tofile(tokens / f"{split}.bin")
        np.save(tokens / f"{split}.idx.npy", starts)
        scores = (difficulty or {}).get(split, np.full(len(parts), np.nan))
        np.save(tokens / f"{split}.difficulty.npy", np.asarray(scores, dtype=np.float64))
        meta["splits"][split] = {"tokens": int(sum(len(p) for p in parts)), "documents": len(parts)}
    (tokens / "meta.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder / "tokens"


def docstring_shards(vocab_size: int = 8192, max_bytes: int = 6_000_000, log=print) -> Path:
    """Shards of the standard library's docstrings with a BPE tokenizer trained on them (cached)."""
    import sys

    folder = CACHE / f"stdlib-docstrings-py{sys.version_info[0]}{sys.version_info[1]}-v{vocab_size}-b{max_bytes}"
    if (folder / "tokens" / "meta.json").exists():
        return folder / "tokens"
    log(f"building docstring shards in {folder} (once) ...")
    docs = stdlib_documents(max_bytes)
    tokenizer = train_bpe(docs, vocab_size)
    ids = [enc.ids for enc in tokenizer.backend_tokenizer.encode_batch(docs, add_special_tokens=False)]
    cut = int(len(ids) * 0.95)
    lengths = {"train": [len(d) for d in docs[:cut]], "validation": [len(d) for d in docs[cut:]]}
    return write_shards(folder, tokenizer, {"train": ids[:cut], "validation": ids[cut:]}, difficulty=lengths)


def random_token_shards(
    vocab_size: int = 50304, tokens: int = 4_000_000, seed: int = 0, validation: bool = True, log=print
) -> Path:
    """Uniformly random ids (in documents of 1-4k tokens) for a ``vocab_size`` tokenizer (cached). Without a
    validation split the runner skips evaluation, which a throughput run does not need."""
    folder = CACHE / f"random-v{vocab_size}-t{tokens}-s{seed}{'' if validation else '-noval'}"
    if (folder / "tokens" / "meta.json").exists():
        return folder / "tokens"
    log(f"building random-token shards in {folder} (once) ...")
    tokenizer = byte_pair_tokenizer(vocab_size)
    rng = np.random.default_rng(seed)
    low = len(SPECIAL)  # never a special id inside a document

    def documents(total: int) -> list[np.ndarray]:
        docs, made = [], 0
        while made < total:
            n = int(rng.integers(1024, 4096))
            docs.append(rng.integers(low, vocab_size, size=n))
            made += n + 1
        return docs

    splits = {"train": documents(tokens)}
    if validation:
        splits["validation"] = documents(max(8192, tokens // 50))
    return write_shards(folder, tokenizer, splits)
