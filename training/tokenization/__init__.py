"""Tokenizer training and token shards for pretraining.

The runner (``training/runners/train_tokenizer.py``) orchestrates; the modules here hold one idea each. Heavy
libraries (``tokenizers``, ``transformers``) are imported only inside the worker processes that need them, so the
web process can import the runner's config without them.
"""
