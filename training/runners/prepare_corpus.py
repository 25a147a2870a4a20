"""``prepare_corpus``: turn raw text sources into a cleaned, deduplicated, split dataset of parquet shards.

The pipeline (``training/corpus/``) streams the sources in shards of documents through a pool of worker processes
(normalize, length, language, Gopher quality and repetition, optional C4, PII redaction, harmful content), then
removes exact and near duplicates in document order in this process, and commits each shard so a crashed run
resumes where it stopped. The output folder ``dataset/`` holds ``<split>-NNNNN.parquet`` files and a manifest with
the funnel (documents and bytes in and out of every step), the config and a sha256 over the shards.

This module stays import-light (the web process loads the config class to validate forms); the pipeline and its
numpy/pyarrow imports load inside ``run``.
"""

from dataclasses import dataclass

from ..configs import ConfigError, field
from ..corpus.config import (
    C4Config,
    ExactDedupConfig,
    GopherQualityConfig,
    GopherRepetitionConfig,
    HarmfulConfig,
    LanguageConfig,
    LengthConfig,
    NearDupConfig,
    NormalizeConfig,
    PIIConfig,
    SourceConfig,
    SplitConfig,
)
from .base import RunContext, RunResult


@dataclass
class PrepareCorpusConfig:
    """Prepare a text corpus: dedup, near-dup, quality filters, PII redaction, harmful content, splits."""

    sources: list[SourceConfig] = field(
        default_factory=lambda: [SourceConfig(type="pydocs")],
        help="inputs, read in order: files (txt/md/jsonl/parquet), hf datasets, or pydocs (installed packages' docs)",
    )
    name: str = field("", help="name of the dataset artifact (default: corpus-<config hash>)")
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig, help="Unicode and whitespace normalization")
    length: LengthConfig = field(default_factory=LengthConfig, help="length filter")
    language: LanguageConfig = field(default_factory=LanguageConfig, help="language filter")
    gopher_quality: GopherQualityConfig = field(default_factory=GopherQualityConfig, help="Gopher quality rules")
    gopher_repetition: GopherRepetitionConfig = field(
        default_factory=GopherRepetitionConfig, help="Gopher repetition rules"
    )
    c4: C4Config = field(default_factory=C4Config, help="C4 line rules (off by default)")
    pii: PIIConfig = field(default_factory=PIIConfig, help="PII and secret redaction")
    harmful: HarmfulConfig = field(default_factory=HarmfulConfig, help="harmful content: flag or drop")
    exact_dedup: ExactDedupConfig = field(default_factory=ExactDedupConfig, help="exact duplicate removal")
    near_dup: NearDupConfig = field(default_factory=NearDupConfig, help="MinHash-LSH near-duplicate removal")
    split: SplitConfig = field(default_factory=SplitConfig, help="train/validation/test ratios")
    shard_size: int = field(1000, help="documents per shard: the unit of parallel work, progress and resume")
    workers: int = field(0, help="worker processes (0: one per CPU core; 1: run in this process)")
    output_shard_documents: int = field(100_000, help="at most this many rows per output parquet file")
    samples_per_step: int = field(5, help="examples of removed or redacted documents kept per step for the job page")

    def __post_init__(self) -> None:
        if not self.sources:
            raise ConfigError("list at least one source", "sources")
        if self.shard_size < 1:
            raise ConfigError("must be >= 1", "shard_size")
        if self.workers < 0:
            raise ConfigError("must be >= 0", "workers")
        if self.output_shard_documents < 1:
            raise ConfigError("must be >= 1", "output_shard_documents")
        if not 0 <= self.samples_per_step <= 50:
            raise ConfigError("must be between 0 and 50", "samples_per_step")


def run(config: PrepareCorpusConfig, ctx: RunContext) -> RunResult:
    from ..corpus.pipeline import run_pipeline

    return run_pipeline(config, ctx)


if __name__ == "__main__":
    from .cli import main

    raise SystemExit(main(PrepareCorpusConfig, run))
