"""Building, training and saving the tokenizer (runs in a worker process; imports ``tokenizers`` and
``transformers``).

The three algorithms differ only in model, pre-tokenizer, decoder and trainer; normalization, special tokens, the
chat template and the Hugging Face files are shared. Special tokens are handed to the trainer first, so their ids
are fixed by the config's order (pad, bos, eos, unk, role tokens, additional tokens) whatever the corpus.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .chat_template import default_chat_template, probe_assistant_mask
from .dataset import PreparedDataset, first_documents, iter_texts

HF_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")


def special_tokens(config: Mapping[str, Any]) -> list[str]:
    """In id order, duplicates dropped (pad may share eos's token)."""
    tokens = [config["pad_token"], config["bos_token"], config["eos_token"], config["unk_token"]]
    tokens += list(config["role_tokens"].values()) + list(config["additional_special_tokens"])
    return list(dict.fromkeys(tokens))


def _normalizer(config: dict[str, Any]):
    from tokenizers import normalizers

    form = config["normalization"]
    composed = {"nfc": normalizers.NFC, "nfkc": normalizers.NFKC, "nfd": normalizers.NFD, "nfkd": normalizers.NFKD}
    steps = []
    if config["strip_accents"]:
        # accents are stripped from decomposed text; compose again afterwards if a composed form was asked for
        steps += [normalizers.NFKD() if form in ("nfkc", "nfkd") else normalizers.NFD(), normalizers.StripAccents()]
        if form in ("nfc", "nfkc"):
            steps.append(normalizers.NFC())
    elif form != "none":
        steps.append(composed[form]())
    if config["lowercase"]:
        steps.append(normalizers.Lowercase())
    return normalizers.Sequence(steps) if steps else None


def build(config: dict[str, Any]):
    """An untrained ``tokenizers.Tokenizer`` and its trainer for the configured algorithm."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = special_tokens(config)
    algorithm, unk = config["algorithm"], config["unk_token"]
    common = {"vocab_size": config["vocab_size"], "special_tokens": specials, "show_progress": False}
    if algorithm == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token=unk))
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=config["add_prefix_space"])
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)  # keeps offsets exact for masks
        trainer = trainers.BpeTrainer(
            **common,
            min_frequency=config["min_frequency"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            max_token_length=config["max_token_length"],
        )
    elif algorithm == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=unk))
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece(prefix="##")
        trainer = trainers.WordPieceTrainer(**common, min_frequency=config["min_frequency"])
    elif algorithm == "unigram":
        tokenizer = Tokenizer(models.Unigram())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        trainer = trainers.UnigramTrainer(**common, unk_token=unk, max_piece_length=config["max_token_length"])
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    normalizer = _normalizer(config)
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    return tokenizer, trainer


def _add_bos_processor(tokenizer, config: dict[str, Any]) -> None:
    from tokenizers import processors

    bos = config["bos_token"]
    template = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tokenizer.token_to_id(bos))]
    )
    existing = tokenizer.post_processor
    tokenizer.post_processor = processors.Sequence([existing, template]) if existing is not None else template


def train(config: dict[str, Any], texts, length: int | None = None):
    """Train on an iterator of texts; raises ValueError when vocab_size cannot hold the corpus alphabet."""
    tokenizer, trainer = build(config)
    try:
        tokenizer.train_from_iterator(texts, trainer=trainer, length=length)
    except Exception as exc:  # the Rust trainer raises plain Exceptions
        if "not large enough" in str(exc):
            raise ValueError(
                f"vocab_size {config['vocab_size']} is below the alphabet of the corpus: {exc}; raise vocab_size"
            ) from None
        raise
    size = tokenizer.get_vocab_size()
    if size > config["vocab_size"]:
        raise ValueError(
            f"vocab_size {config['vocab_size']} is below the alphabet of the corpus: the trainer needed {size} "
            f"entries for its characters and special tokens alone; raise vocab_size to at least {size + 1}"
        )
    if config["add_bos"]:
        _add_bos_processor(tokenizer, config)
    return tokenizer


def save_hf(tokenizer, folder: Path, config: dict[str, Any]):
    """Hugging Face files: tokenizer.json, tokenizer_config.json, special_tokens_map.json, chat_template.jinja."""
    from transformers import PreTrainedTokenizerFast

    roles_and_extra = [t for t in special_tokens(config)[4:]]
    template = config["chat_template"] or default_chat_template(config["role_tokens"], add_bos=config["add_bos"])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=config["bos_token"],
        eos_token=config["eos_token"],
        pad_token=config["pad_token"],
        unk_token=config["unk_token"],
        additional_special_tokens=roles_and_extra,
        chat_template=template,
        clean_up_tokenization_spaces=False,  # else decode() rewrites " ." to "." and round trips break
        model_max_length=config["model_max_length"],
    )
    fast.save_pretrained(str(folder))
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    # the name every transformers version resolves (v5 aliases it to its tokenizers backend)
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2, sort_keys=True) + "\n")
    special_map = {
        "bos_token": config["bos_token"],
        "eos_token": config["eos_token"],
        "pad_token": config["pad_token"],
        "unk_token": config["unk_token"],
        "additional_special_tokens": roles_and_extra,
    }
    (folder / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2) + "\n")
    if not (folder / "chat_template.jinja").exists():
        (folder / "chat_template.jinja").write_text(template, encoding="utf-8")


def _samples(tokenizer, documents: list[dict[str, str]], max_chars: int) -> list[dict[str, Any]]:
    """Each sample document split into tokens: the surface text of every token (from offsets) and its id."""
    out = []
    for doc in documents:
        text = doc["text"][:max_chars]
        enc = tokenizer.encode(text, add_special_tokens=False)
        pieces = [text[start:end] for start, end in enc.offsets]
        out.append({"id": doc["id"], "text": text, "tokens": pieces, "ids": enc.ids, "n_tokens": len(enc.ids)})
    return out


def train_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker-process entry point: train on the train split, save in HF format to ``task["output"]``, check that
    transformers reloads it and that the chat template's assistant mask works, and return the facts the report
    needs (all JSON, so the runner can keep them in its resume state)."""
    # PreTrainedTokenizerFast (the class tokenizer_config.json names) loads without torch; AutoTokenizer would
    # import torch and cost seconds per job for the same result.
    from transformers import PreTrainedTokenizerFast

    config = task["config"]
    dataset = PreparedDataset.open(task["dataset"])
    output = Path(task["output"])
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    counter = {"documents": 0, "chars": 0}

    def texts():
        for text in iter_texts(dataset, "train", config["max_train_chars"]):
            counter["documents"] += 1
            counter["chars"] += len(text)
            yield text

    started = time.monotonic()
    tokenizer = train(config, texts(), length=dataset.documents("train") or None)
    seconds = time.monotonic() - started
    save_hf(tokenizer, output, config)
    reloaded = PreTrainedTokenizerFast.from_pretrained(str(output))
    probe = probe_assistant_mask(reloaded)
    samples = _samples(tokenizer, first_documents(dataset, task["report_split"], task["samples"]), task["sample_chars"])
    vocab = tokenizer.get_vocab()
    return {
        "vocab_size": tokenizer.get_vocab_size(),
        "special_token_ids": {t: vocab[t] for t in special_tokens(config)},
        "eos_id": vocab[config["eos_token"]],
        "bos_id": vocab[config["bos_token"]],
        "pad_id": vocab[config["pad_token"]],
        "unk_id": vocab[config["unk_token"]],
        "training_documents": counter["documents"],
        "training_chars": counter["chars"],
        "training_seconds": round(seconds, 3),
        "sha256": hashlib.sha256((output / "tokenizer.json").read_bytes()).hexdigest(),
        "chat_probe": probe,
        "samples": samples,
    }
