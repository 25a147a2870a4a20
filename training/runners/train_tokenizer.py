"""Train a tokenizer on a prepared dataset and pack the dataset into token shards for pretraining.

The module's top level is the config only (the web process imports it to validate and document configs); the work
lives in ``training.tokenization`` and is imported inside ``run``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from training.configs import ConfigError, field
from training.tokenization.chat_template import has_generation_markers
from training.tokenization.trainers import special_tokens

from .base import RunContext, RunResult

BYTE_ALPHABET = 256
MAX_VOCAB = 1 << 22


def _default_roles() -> dict[str, str]:
    return {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>"}


@dataclass
class TrainTokenizerConfig:
    """Train a BPE / WordPiece / Unigram tokenizer on a prepared dataset and pack token shards."""

    input: str = field(
        "latest",
        help='The prepared dataset: "latest" (the newest dataset artifact), an artifact id, or a folder path.',
        artifact="dataset",
    )
    algorithm: Literal["bpe", "wordpiece", "unigram"] = field(
        "bpe",
        help="bpe: byte-level BPE (GPT-2 style, never unknown tokens); wordpiece: BERT-style; unigram: "
        "SentencePiece-style with the Metaspace pre-tokenizer.",
    )
    vocab_size: int = field(8192, help="Size of the vocabulary, special tokens included.")
    min_frequency: int = field(2, help="Merges seen fewer times are not learned (bpe and wordpiece).")
    pad_token: str = field("<|pad|>", help="Padding token (id 0).")
    bos_token: str = field("<|bos|>", help="Beginning-of-sequence token (id 1).")
    eos_token: str = field("<|eos|>", help="End-of-sequence token (id 2); ends every document and chat turn.")
    unk_token: str = field("<|unk|>", help="Unknown token (id 3); byte-level BPE never needs it.")
    role_tokens: dict[str, str] = field(
        default_factory=_default_roles,
        help="Chat role → special token (ids follow unk in this order); the chat template uses them.",
    )
    additional_special_tokens: list[str] = field(
        default_factory=list, help="More special tokens, never split, with ids after the role tokens."
    )
    normalization: Literal["none", "nfc", "nfkc", "nfd", "nfkd"] = field(
        "none",
        help="Unicode normalization applied before tokenizing (the prepared corpus is already normalized; "
        "anything but none breaks exact round trips of text in other forms).",
    )
    lowercase: bool = field(False, help="Lowercase text before tokenizing.")
    strip_accents: bool = field(False, help="Remove accents (combining marks) before tokenizing.")
    add_prefix_space: bool = field(False, help="bpe only: treat the first word like one preceded by a space.")
    max_token_length: int = field(16, help="Longest token the trainer may create, in characters (bpe, unigram).")
    add_bos: bool = field(
        False, help="Prepend the BOS token when encoding (and to every document in the token shards)."
    )
    chat_template: str | None = field(
        None,
        help="Jinja chat template; empty for the built-in one (role token, content, EOS). A custom template must "
        "wrap assistant content in {% generation %}...{% endgeneration %} for assistant-only loss.",
    )
    model_max_length: int = field(2048, help="Context length recorded in tokenizer_config.json.")
    max_train_chars: int | None = field(
        None, help="Train on at most this many characters of the train split (empty: all of it)."
    )
    write_token_shards: bool = field(True, help="Tokenize every split into token shards for pretraining.")
    curriculum: bool = field(
        False, help="Order the train split's documents by ascending difficulty (the dataset's score)."
    )
    workers: int = field(0, help="Processes that tokenize shards in parallel (0: one per CPU core).")
    report_samples: int = field(5, help="Documents shown split into tokens in the report.")

    def __post_init__(self) -> None:
        if not self.input.strip():
            raise ConfigError("name a prepared dataset (or use latest)", "input")
        self._check_special_tokens()
        specials = len(self.special_tokens())
        if self.vocab_size > MAX_VOCAB:
            raise ConfigError(f"must be at most {MAX_VOCAB}", "vocab_size")
        if self.algorithm == "bpe" and self.vocab_size < BYTE_ALPHABET + specials + 1:
            raise ConfigError(
                f"byte-level BPE needs its {BYTE_ALPHABET}-byte alphabet plus {specials} special tokens: "
                f"use at least {BYTE_ALPHABET + specials + 1}",
                "vocab_size",
            )
        if self.vocab_size < specials + 2:
            raise ConfigError(f"must exceed the {specials} special tokens by at least 2", "vocab_size")
        if self.min_frequency < 1:
            raise ConfigError("must be at least 1", "min_frequency")
        if self.max_token_length < 1:
            raise ConfigError("must be at least 1", "max_token_length")
        if self.model_max_length < 1:
            raise ConfigError("must be at least 1", "model_max_length")
        if self.max_train_chars is not None and self.max_train_chars < 1:
            raise ConfigError("must be at least 1, or empty for the whole train split", "max_train_chars")
        if self.workers < 0:
            raise ConfigError("must be 0 (one per core) or more", "workers")
        if not 0 <= self.report_samples <= 50:
            raise ConfigError("must be between 0 and 50", "report_samples")
        if self.chat_template is not None and not self.chat_template.strip():
            self.chat_template = None
        if self.chat_template is not None and not has_generation_markers(self.chat_template):
            raise ConfigError(
                "must mark assistant content with {% generation %} ... {% endgeneration %} "
                "(assistant-only loss depends on it)",
                "chat_template",
            )

    def _check_special_tokens(self) -> None:
        for name in ("pad_token", "bos_token", "eos_token", "unk_token"):
            token = getattr(self, name)
            if not token or token != token.strip():
                raise ConfigError("must be non-empty without surrounding whitespace", name)
        if self.chat_template is None and "assistant" not in self.role_tokens:
            raise ConfigError("needs an assistant role (the built-in chat template marks its turns)", "role_tokens")
        for role, token in self.role_tokens.items():
            if not role or not token or token != token.strip():
                raise ConfigError(f"role {role!r}: role and token must be non-empty without whitespace", "role_tokens")
        for token in self.additional_special_tokens:
            if not token or token != token.strip():
                raise ConfigError(
                    f"{token!r} must be non-empty without surrounding whitespace", "additional_special_tokens"
                )
        core = [self.bos_token, self.eos_token, self.unk_token]
        if len(set(core)) != len(core):
            raise ConfigError("bos, eos and unk tokens must differ", "eos_token")
        roles = list(self.role_tokens.values())
        clash = (set(roles) & {*core, self.pad_token}) or (len(set(roles)) != len(roles))
        if clash:
            raise ConfigError("each role needs its own token, distinct from pad/bos/eos/unk", "role_tokens")

    def special_tokens(self) -> list[str]:
        """In id order: pad, bos, eos, unk, role tokens, additional tokens (duplicates dropped)."""
        return special_tokens(vars(self))


def run(config: TrainTokenizerConfig, ctx: RunContext) -> RunResult:
    from training.tokenization.pipeline import TokenizerJob

    return TokenizerJob(asdict(config), ctx).run()


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(TrainTokenizerConfig, run))
