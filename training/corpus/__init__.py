"""Corpus preparation: sources, per-document filters, dedup, splits and the parquet dataset they produce.

Importing this package is cheap; each module pulls in numpy or pyarrow only where it needs them, and
``training.runners.prepare_corpus`` imports the pipeline inside ``run``.
"""
