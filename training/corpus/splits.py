"""Train/validation/test assignment from a salted hash of the document id: stable across runs and machines, and a
document keeps its split when the corpus around it grows (no leakage when a dataset is rebuilt)."""

import hashlib

from .config import SplitConfig

SPLITS = ("train", "validation", "test")


def assign_split(doc_id: str, cfg: SplitConfig) -> str:
    key = hashlib.blake2b(f"{cfg.seed}\0{doc_id}".encode(), digest_size=8, person=b"plumbline-split").digest()
    u = int.from_bytes(key, "big") / 2**64
    if u < cfg.train:
        return "train"
    if u < cfg.train + cfg.validation:
        return "validation"
    return "test"
