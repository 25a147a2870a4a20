"""The settings of every corpus step, as dataclasses the job form, the API schema and the CLI share.

Stdlib only: the web process imports these to validate configs and must not pay for numpy or datasketch. Defaults
follow the published recipes (Gopher rules and thresholds from Rae et al. 2021, appendix A; C4's line rules from
Raffel et al. 2020; datatrove's MinHash layout of 5-word shingles and 14 bands of 8 rows), so a minimal config is a
sensible one.
"""

from dataclasses import dataclass
from typing import Literal

from ..configs import ConfigError, field

SourceType = Literal["files", "hf", "pydocs"]
FILE_FORMATS = ("txt", "md", "jsonl", "parquet")


@dataclass
class SourceConfig:
    """One input: local files or folders, a Hugging Face dataset, or the docs of installed Python packages."""

    type: SourceType = field("pydocs", help="files (txt, md, jsonl, parquet), hf (datasets.load_dataset) or pydocs")
    name: str = field("", help="label stored in the source column and used as the document-id prefix")
    path: str = field("", help="files: a file or folder (folders are walked recursively, in sorted order)")
    formats: list[str] = field(
        default_factory=lambda: list(FILE_FORMATS), help="files: which extensions to read from folders"
    )
    text_field: str = field("text", help="jsonl / parquet / hf: the field or column holding the text")
    id_field: str = field("", help="jsonl / parquet / hf: a field holding document ids (default: position)")
    on_decode_error: Literal["error", "skip", "replace"] = field(
        "error", help="non-UTF-8 or binary files: fail the run (naming the file), skip them, or replace bad bytes"
    )
    dataset: str = field("", help="hf: dataset name or builder (e.g. 'wikitext', or 'json' with data_files)")
    dataset_config: str = field("", help="hf: the dataset's configuration name, if it has several")
    data_files: list[str] = field(default_factory=list, help="hf: data files for builders such as 'json'")
    split: str = field("train", help="hf: which split to stream")
    revision: str = field("", help="hf: a git revision of the dataset repository")
    packages: list[str] = field(
        default_factory=list, help="pydocs: distributions or top-level modules to read (empty: all installed)"
    )
    include_stdlib: bool = field(True, help="pydocs: also read the standard library")
    include_doc_files: bool = field(True, help="pydocs: also read .md/.rst/.txt files and package descriptions")
    max_bytes: int = field(20_000_000, help="pydocs: stop after this many bytes of extracted text (0: no limit)")
    max_bytes_per_package: int = field(
        1_500_000, help="pydocs: at most this many bytes from one package, so no giant dominates (0: no limit)"
    )
    max_file_bytes: int = field(2_000_000, help="pydocs / files: skip larger files (generated code, data dumps)")
    max_documents: int = field(0, help="stop this source after this many documents (0: no limit)")

    def __post_init__(self) -> None:
        if self.type == "files" and not self.path:
            raise ConfigError("a files source needs a path (a file or a folder)", "path")
        if self.type == "hf" and not self.dataset:
            raise ConfigError(
                "an hf source needs a dataset name (or a builder such as 'json' with data_files)", "dataset"
            )
        unknown = sorted(set(self.formats) - set(FILE_FORMATS))
        if unknown:
            raise ConfigError(f"unknown format(s) {unknown}; known: {list(FILE_FORMATS)}", "formats")
        if not self.formats:
            raise ConfigError("list at least one format", "formats")
        if self.type in ("files", "hf") and not self.text_field:
            raise ConfigError("name the field that holds the text", "text_field")
        for name in ("max_bytes", "max_bytes_per_package", "max_file_bytes", "max_documents"):
            if getattr(self, name) < 0:
                raise ConfigError("must be >= 0", name)

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.type == "hf":
            return f"hf:{self.dataset}" + (f"/{self.dataset_config}" if self.dataset_config else "")
        if self.type == "files":
            return f"files:{self.path.rstrip('/').rsplit('/', 1)[-1]}"
        return "pydocs"


@dataclass
class NormalizeConfig:
    """Unicode and whitespace normalization, so equal texts compare equal (exact dedup depends on it)."""

    enabled: bool = field(True, help="run this step")
    unicode_form: Literal["NFC", "NFKC", "none"] = field(
        "NFC", help="Unicode normal form; NFKC also folds compatibility characters (ligatures, full-width forms)"
    )
    whitespace: bool = field(
        True, help="unify newlines, strip trailing spaces, turn tabs/odd spaces into spaces, keep at most 2 blank lines"
    )
    strip_control: bool = field(True, help="remove control and zero-width characters (not newlines or tabs)")


@dataclass
class LengthConfig:
    """Drop documents that are too short to teach anything or too long to be one document."""

    enabled: bool = field(True, help="run this step")
    min_chars: int = field(100, help="drop documents shorter than this (characters, after normalization)")
    max_chars: int = field(2_000_000, help="drop documents longer than this (0: no limit)")

    def __post_init__(self) -> None:
        if self.min_chars < 0:
            raise ConfigError("must be >= 0", "min_chars")
        if self.max_chars and self.max_chars < self.min_chars:
            raise ConfigError("must be >= min_chars (or 0 for no limit)", "max_chars")


@dataclass
class LanguageConfig:
    """Keep documents in the listed languages (py3langid, whose model ships inside the wheel)."""

    enabled: bool = field(True, help="run this step")
    languages: list[str] = field(default_factory=lambda: ["en"], help="ISO 639-1 codes to keep")
    min_confidence: float = field(0.5, help="drop documents whose top language has a lower probability")
    sample_chars: int = field(1000, help="classify only the first N characters (enough for a stable answer)")

    def __post_init__(self) -> None:
        if not self.languages:
            raise ConfigError("list at least one language, or disable the step", "languages")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError("must be between 0 and 1", "min_confidence")
        if self.sample_chars < 50:
            raise ConfigError("must be >= 50", "sample_chars")


GOPHER_STOP_WORDS = ["the", "be", "to", "of", "and", "that", "have", "with"]


@dataclass
class GopherQualityConfig:
    """Gopher's document quality rules (Rae et al. 2021, appendix A.1.1), with the paper's thresholds."""

    enabled: bool = field(True, help="run this step")
    min_words: int = field(50, help="drop documents with fewer words")
    max_words: int = field(100_000, help="drop documents with more words")
    min_mean_word_length: float = field(3.0, help="drop documents whose mean word length is below this")
    max_mean_word_length: float = field(10.0, help="drop documents whose mean word length is above this")
    max_symbol_word_ratio: float = field(0.1, help="drop when '#' per word, or '...'/'…' per word, exceeds this")
    max_bullet_lines_ratio: float = field(0.9, help="drop when more lines than this start with a bullet point")
    max_ellipsis_lines_ratio: float = field(0.3, help="drop when more lines than this end with an ellipsis")
    min_alpha_words_ratio: float = field(0.8, help="drop when fewer words than this contain a letter")
    min_stop_words: int = field(2, help="drop documents with fewer occurrences of the stop words")
    stop_words: list[str] = field(default_factory=lambda: list(GOPHER_STOP_WORDS), help="the stop words")

    def __post_init__(self) -> None:
        if self.max_words < self.min_words:
            raise ConfigError("must be >= min_words", "max_words")
        if self.max_mean_word_length < self.min_mean_word_length:
            raise ConfigError("must be >= min_mean_word_length", "max_mean_word_length")
        for name in ("max_bullet_lines_ratio", "max_ellipsis_lines_ratio", "min_alpha_words_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError("must be between 0 and 1", name)


def _default_top_ngrams() -> dict[str, float]:
    return {"2": 0.20, "3": 0.18, "4": 0.16}


def _default_dup_ngrams() -> dict[str, float]:
    return {"5": 0.15, "6": 0.14, "7": 0.13, "8": 0.12, "9": 0.11, "10": 0.10}


@dataclass
class GopherRepetitionConfig:
    """Gopher's repetition rules (Rae et al. 2021, table A1): repeated lines, paragraphs and n-grams."""

    enabled: bool = field(True, help="run this step")
    max_duplicate_line_fraction: float = field(0.30, help="share of lines that repeat an earlier line")
    max_duplicate_paragraph_fraction: float = field(0.30, help="share of paragraphs that repeat an earlier one")
    max_duplicate_line_char_fraction: float = field(0.20, help="share of characters in repeated lines")
    max_duplicate_paragraph_char_fraction: float = field(0.20, help="share of characters in repeated paragraphs")
    max_top_ngram_char_fraction: dict[str, float] = field(
        default_factory=_default_top_ngrams, help="n -> max share of characters in the most frequent n-gram"
    )
    max_duplicate_ngram_char_fraction: dict[str, float] = field(
        default_factory=_default_dup_ngrams, help="n -> max share of characters covered by n-grams seen twice or more"
    )

    def __post_init__(self) -> None:
        for name in ("max_top_ngram_char_fraction", "max_duplicate_ngram_char_fraction"):
            for key, value in getattr(self, name).items():
                if not key.isdigit() or not 1 <= int(key) <= 20:
                    raise ConfigError(f"keys are n-gram sizes 1..20, got {key!r}", name)
                if not 0.0 <= value <= 1.0:
                    raise ConfigError(f"thresholds are between 0 and 1, got {value!r} for {key}", name)


@dataclass
class C4Config:
    """C4's line rules (Raffel et al. 2020), off by default: they remove code, which documentation is full of."""

    enabled: bool = field(False, help="run this step")
    terminal_punctuation: bool = field(True, help="keep only lines ending in . ! ? or a closing quote")
    min_words_per_line: int = field(5, help="drop lines with fewer words")
    min_sentences: int = field(3, help="drop documents left with fewer sentences")
    max_word_length: int = field(1000, help="drop lines containing a longer word")
    drop_javascript_lines: bool = field(True, help="drop lines mentioning javascript")
    drop_policy_lines: bool = field(True, help="drop lines about terms of use, privacy or cookie policies")
    drop_lorem_ipsum: bool = field(True, help="drop documents containing 'lorem ipsum'")
    drop_curly_braces: bool = field(True, help="drop documents containing '{' (code)")
    remove_citations: bool = field(True, help="remove wikipedia-style citation markers like [1] or [edit]")


PII_TYPES = ("email", "phone", "ip_address", "credit_card", "iban", "secret")


@dataclass
class PIIConfig:
    """Redact personal data and secrets into typed placeholders such as <EMAIL> or <SECRET>."""

    enabled: bool = field(True, help="run this step")
    types: list[str] = field(default_factory=lambda: list(PII_TYPES), help=f"what to redact: {list(PII_TYPES)}")
    keep_non_global_ips: bool = field(
        True, help="leave private, loopback and documentation IP addresses (127.0.0.1, 10.0.0.1) as they are"
    )

    def __post_init__(self) -> None:
        unknown = sorted(set(self.types) - set(PII_TYPES))
        if unknown:
            raise ConfigError(f"unknown type(s) {unknown}; known: {list(PII_TYPES)}", "types")


# better-profanity's list holds words that documentation uses innocently (Sphinx's :meth:, len(), strip(), kill
# signals, "dummy" variables, "foobar", master/slave replication, ...): counting them would flag the Python docs.
# fmt: off
LEXICON_IGNORE = (
    "meth", "len", "strip", "dummy", "kill", "xxx", "xx", "foobar", "fubar", "pot", "slope", "ugly", "guido",
    "wang", "fat", "stroke", "murder", "slave", "racy", "woody", "massa", "naked", "crack", "screw", "screwing",
    "balls", "nuts", "knob", "hardcore", "hooker", "lust", "pawn", "prick", "pube", "facial", "erotic",
)
# fmt: on


HARMFUL_LABELS = ("toxic", "toxicity", "harmful", "offensive", "hate", "LABEL_1")


@dataclass
class HarmfulConfig:
    """Score documents for harmful content and flag or drop them."""

    enabled: bool = field(True, help="run this step")
    detector: Literal["lexicon", "classifier"] = field(
        "lexicon", help="lexicon: the word list of better-profanity; classifier: an HF text-classification model"
    )
    model_path: str = field("", help="classifier: local path (or hub name) of a text-classification model")
    harmful_labels: list[str] = field(
        default_factory=lambda: list(HARMFUL_LABELS),
        help="classifier: labels whose probabilities add up to the harmful score",
    )
    threshold: float = field(0.5, help="documents scoring at or above this are flagged or dropped")
    action: Literal["flag", "drop"] = field("flag", help="flag: add 'harmful' to the flags column; drop: remove")
    saturation: float = field(
        0.02, help="lexicon: share of lexicon words at which the score reaches 1 (score = share / saturation)"
    )
    batch_size: int = field(16, help="classifier: texts per forward pass")
    lexicon_ignore: list[str] = field(
        default_factory=lambda: list(LEXICON_IGNORE),
        help="lexicon: word-list entries that are ordinary or technical vocabulary and must not count",
    )

    def __post_init__(self) -> None:
        if self.detector == "classifier" and not self.model_path:
            raise ConfigError("the classifier detector needs model_path", "model_path")
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError("must be between 0 and 1", "threshold")
        if not 0.0 < self.saturation <= 1.0:
            raise ConfigError("must be in (0, 1]", "saturation")
        if self.batch_size < 1:
            raise ConfigError("must be >= 1", "batch_size")


@dataclass
class ExactDedupConfig:
    """Drop documents whose normalized text equals an earlier document's (a 128-bit hash of the text)."""

    enabled: bool = field(True, help="run this step")


@dataclass
class NearDupConfig:
    """MinHash-LSH near-duplicate removal: a document is dropped when it is a near-duplicate of an earlier one kept."""

    enabled: bool = field(True, help="run this step")
    shingle_size: int = field(5, help="words per shingle (lower-cased, punctuation removed)")
    num_perm: int = field(112, help="MinHash permutations; must equal bands x rows")
    bands: int = field(14, help="LSH bands: more bands find pairs at lower similarity")
    rows: int = field(8, help="rows per band: more rows make each band stricter")
    threshold: float = field(0.8, help="Jaccard similarity of shingle sets at or above which a document is a duplicate")
    verify: Literal["exact", "signature"] = field(
        "exact",
        help="check LSH candidates by exact Jaccard of the shingle sets (kept on disk) or by the signature estimate",
    )
    seed: int = field(1, help="seed of the hash permutations")

    def __post_init__(self) -> None:
        if self.shingle_size < 1:
            raise ConfigError("must be >= 1", "shingle_size")
        if self.bands < 1 or self.rows < 1:
            raise ConfigError("bands and rows must be >= 1", "bands")
        if self.bands * self.rows != self.num_perm:
            raise ConfigError(
                f"must equal bands x rows ({self.bands} x {self.rows} = {self.bands * self.rows})", "num_perm"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError("must be in (0, 1]", "threshold")


@dataclass
class SplitConfig:
    """Deterministic train/validation/test assignment from a hash of the document id."""

    train: float = field(0.90, help="share of documents in the train split")
    validation: float = field(0.05, help="share in the validation split")
    test: float = field(0.05, help="share in the test split")
    seed: str = field("plumbline", help="salt of the hash: change it to draw a different split")

    def __post_init__(self) -> None:
        for name in ("train", "validation", "test"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError("must be between 0 and 1", name)
        total = self.train + self.validation + self.test
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"train + validation + test must be 1, got {total:g}", "train")
