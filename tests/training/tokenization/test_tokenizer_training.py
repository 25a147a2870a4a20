"""Each algorithm trains on a prepared dataset, saves Hugging Face files that AutoTokenizer reloads, and carries the
configured special tokens and a chat template whose assistant mask covers exactly the assistant replies."""

import pytest

ALGORITHMS = ["bpe", "wordpiece", "unigram"]
SPECIAL_IDS = {
    "<|pad|>": 0,
    "<|bos|>": 1,
    "<|eos|>": 2,
    "<|unk|>": 3,
    "<|system|>": 4,
    "<|user|>": 5,
    "<|assistant|>": 6,
}
CONVERSATION = [
    {"role": "system", "content": "Answer in one line."},
    {"role": "user", "content": "Return the value of the key."},
    {"role": "assistant", "content": "Use dict.get(key) to return the value."},
    {"role": "user", "content": "And when the key is missing?"},
    {"role": "assistant", "content": "It returns None, or the default you pass."},
]


def load(run):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(run.folder / "tokenizer")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_trains_saves_and_reloads_with_configured_special_tokens(trained, algorithm):
    run = trained(algorithm=algorithm)
    folder = run.folder / "tokenizer"
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"):
        assert (folder / name).is_file(), name
    tokenizer = load(run)
    assert {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_IDS} == SPECIAL_IDS
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert 900 <= len(tokenizer) <= 1024
    assert run.result.summary["vocab_size"] == len(tokenizer)
    assert run.result.summary["special_token_ids"] == SPECIAL_IDS
    kinds = [(a.kind, a.path) for a in run.result.artifacts]
    if algorithm == "wordpiece":  # the session's wordpiece run is tokenizer-only (see conftest)
        assert kinds == [("tokenizer", folder)]
    else:
        assert kinds == [("tokenizer", folder), ("token_shards", run.folder / "tokens")]
    # special tokens are never split, whatever the algorithm
    ids = tokenizer("<|user|>hello<|eos|>", add_special_tokens=False).input_ids
    assert ids[0] == 5 and ids[-1] == 2


def test_byte_level_bpe_round_trips_any_text(trained):
    tokenizer = load(trained(algorithm="bpe"))
    for text in [
        "Return the value for *key* if *key* is in the dictionary.",
        "  leading spaces,\ttabs\n\nand blank lines  ",
        "héllo wörld — 日本語のテキスト 🙂 never seen in training",
        "x" * 300,
    ]:
        ids = tokenizer(text, add_special_tokens=False).input_ids
        assert tokenizer.decode(ids) == text
        assert tokenizer.unk_token_id not in ids


def test_wordpiece_and_unigram_keep_words_and_mark_unknown_characters(trained):
    text = "Return the value of the key in the dictionary."
    for algorithm in ("wordpiece", "unigram"):
        tokenizer = load(trained(algorithm=algorithm))
        ids = tokenizer(text, add_special_tokens=False).input_ids
        assert tokenizer.decode(ids).replace(" .", ".") == text
        unseen = tokenizer("日本語", add_special_tokens=False).input_ids
        assert tokenizer.unk_token_id in unseen, algorithm
    unigram = trained(algorithm="unigram")
    assert '"Metaspace"' in (unigram.folder / "tokenizer" / "tokenizer.json").read_text()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chat_template_assistant_mask_covers_exactly_the_replies(trained, algorithm):
    tokenizer = load(trained(algorithm=algorithm))
    assert "{% generation %}" in (trained(algorithm=algorithm).folder / "tokenizer" / "chat_template.jinja").read_text()
    rendered = tokenizer.apply_chat_template(CONVERSATION, tokenize=False)
    assert rendered == (
        "<|system|>Answer in one line.<|eos|><|user|>Return the value of the key.<|eos|>"
        "<|assistant|>Use dict.get(key) to return the value.<|eos|><|user|>And when the key is missing?<|eos|>"
        "<|assistant|>It returns None, or the default you pass.<|eos|>"
    )
    out = tokenizer.apply_chat_template(
        CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids, mask = out["input_ids"], out["assistant_masks"]
    masked = [i for i, m in zip(ids, mask, strict=True) if m]
    expected = []
    for message in CONVERSATION:
        if message["role"] == "assistant":
            expected += [*tokenizer(message["content"], add_special_tokens=False).input_ids, tokenizer.eos_token_id]
    assert masked == expected
    # and nothing else: every unmasked token belongs to a system/user turn or is a role/eos marker
    assert sum(mask) == len(expected) < len(ids)
    prompt = tokenizer.apply_chat_template(CONVERSATION[:2], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>")


def test_unknown_chat_role_is_a_clear_error(trained):
    tokenizer = load(trained(algorithm="bpe"))
    with pytest.raises(Exception, match="unknown chat role tool"):
        tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)
