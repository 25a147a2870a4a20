"""Near-duplicate removal on planted pairs of known Jaccard similarity, and the MinHash it rests on."""

import numpy as np
import pytest
from datasketch import MinHash

from training.corpus.config import NearDupConfig
from training.corpus.dedup import ExactIndex, NearDupIndex
from training.corpus.minhash import jaccard, shingles, signature, tokens
from training.corpus.planted import planted_corpus


def test_signature_is_datasketch_minhash():
    hashes = shingles("The quick brown fox jumps over the lazy dog, again and again, " * 20, 5)
    reference = MinHash(num_perm=112, seed=1, scheme="affine32", hashfunc=lambda v: v)
    reference.update_batch([int(h) for h in hashes])
    assert np.array_equal(signature(hashes, 112, 1), reference.hashvalues.astype(np.uint32))
    empty = signature(np.empty(0, dtype=np.uint32), 112, 1)
    assert np.array_equal(empty, MinHash(num_perm=112, seed=1, scheme="affine32").hashvalues.astype(np.uint32))


def test_shingles_ignore_case_and_punctuation_and_keep_word_order():
    a = shingles("Hello, World! this is a test of shingles.", 5)
    assert np.array_equal(a, shingles("hello world this is a test of shingles", 5))
    assert not np.array_equal(a, shingles("world hello this is a test of shingles", 5))
    assert len(shingles("too short", 5)) == 1  # a short document is one shingle, not none
    assert tokens("Don't stop!") == ["don", "t", "stop"]
    assert jaccard(a, a) == 1.0


@pytest.fixture(scope="module")
def planted():
    return planted_corpus([0.95, 0.9, 0.7, 0.5], pairs_per_target=12, seed=3)


def test_planted_pairs_hit_their_targets(planted):
    for pair in planted:
        assert abs(pair.jaccard - pair.target) < 0.02


@pytest.mark.parametrize("verify", ["exact", "signature"])
def test_removes_high_similarity_copies_and_keeps_low_ones(planted, verify, tmp_path):
    index = NearDupIndex(NearDupConfig(threshold=0.8, verify=verify), tmp_path / "shingles.bin")
    size = 112
    for key, pair in enumerate(planted):  # every original first: none is a near-duplicate of another
        hashes = shingles(pair.original, 5)
        assert index.check(key, signature(hashes, size, 1), hashes) is None
    removed = {}
    for key, pair in enumerate(planted, start=len(planted)):
        hashes = shingles(pair.copy, 5)
        found = index.check(key, signature(hashes, size, 1), hashes)
        removed.setdefault(pair.target, []).append(found is not None)
        if found is not None:
            assert found[0] == key - len(planted)  # it names the original it duplicates
    index.close()
    assert all(removed[0.95]) and all(removed[0.9])
    assert not any(removed[0.7]) and not any(removed[0.5])


def test_keeps_the_first_of_a_cluster_and_restores_after_restart(tmp_path):
    pairs = planted_corpus([0.9], pairs_per_target=3, seed=5)
    cfg = NearDupConfig()
    store = tmp_path / "shingles.bin"
    index = NearDupIndex(cfg, store)
    docs = [shingles(p.original, 5) for p in pairs]
    sigs = [signature(h, 112, 1) for h in docs]
    for key, (sig, hashes) in enumerate(zip(sigs, docs, strict=True)):
        index.check(key, sig, hashes)
    keys, offsets = index.commit()
    index.close()
    # a new process: re-enter the committed documents, then the copies are still recognized against them
    restored = NearDupIndex(cfg, store, committed_bytes=int(offsets[-1]))
    restored.restore(keys, np.stack(sigs), offsets)
    for pair in pairs:
        copy = shingles(pair.copy, 5)
        assert restored.check(99, signature(copy, 112, 1), copy) is not None
    restored.close()


def test_exact_index():
    index = ExactIndex()
    assert index.add(b"a" * 16) and not index.add(b"a" * 16) and index.add(b"b" * 16)


def test_permutations_are_datasketchs():
    from training.corpus.minhash import permutations

    a, b = MinHash(num_perm=112, seed=7, scheme="affine32").permutations
    mine = permutations(112, 7)
    assert np.array_equal(mine[0], a) and np.array_equal(mine[1], b)


def test_ascii_tokens_equal_the_regex_tokens():
    import random
    import re

    rng = random.Random(5)
    alphabet = "aZ9_ -.'\t\n\x1c"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert tokens(text) == re.findall(r"\w+", text.lower()), repr(text)
    assert tokens("Ünïcödé Straße") == ["ünïcödé", "straße"]


def test_signatures_of_many_documents_at_once():
    from training.corpus.minhash import _BLOCK, signatures

    sets = [
        shingles(text, 5)
        for text in ["", "one", "a b c d e f g", " ".join(f"w{i}" for i in range(_BLOCK + 50)), "x y z " * 40]
    ]
    sets[0] = np.empty(0, dtype=np.uint32)
    sets += [shingles(" ".join(f"v{i % 997}" for i in range(k * 700)), 5) for k in range(1, 25)]  # fill blocks
    expected = np.stack([signature(s, 112, 1) for s in sets])
    assert np.array_equal(signatures(sets, 112, 1), expected)
    assert np.array_equal(signatures([], 112, 1), np.zeros((0, 112), dtype=np.uint32))
