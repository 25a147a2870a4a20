"""A difficulty score per document, in [0, 1], for curriculum ordering (easy documents first).

It blends three signals a reader would call difficulty, each mapped to [0, 1]:

- length (weight 0.4): ``log(1 + words) / log(1 + 20000)``, capped; longer documents need longer-range context;
- lexical diversity (0.3): the mean type-token ratio over consecutive 100-word windows (MSTTR), a vocabulary
  richness that, unlike the plain ratio, does not fall as documents grow; a document under 100 words uses its own;
- word length (0.3): ``(mean word length - 3) / 5``, capped; long words mark technical, rarer vocabulary.

Every input is the document's own text, so the score is deterministic and needs no second pass over the corpus.
"""

import math

import numpy as np

_WINDOW = 100
_LENGTH_SCALE = math.log1p(20_000)


def _msttr(ids: np.ndarray) -> float:
    if len(ids) == 0:
        return 0.0
    if len(ids) < _WINDOW:
        return (int(np.count_nonzero(np.diff(np.sort(ids)))) + 1) / len(ids)  # distinct ids; a sort beats np.unique
    windows = np.sort(ids[: len(ids) // _WINDOW * _WINDOW].reshape(-1, _WINDOW), axis=1)
    distinct = 1 + (np.diff(windows, axis=1) != 0).sum(axis=1)
    return float(distinct.mean() / _WINDOW)


def difficulty(words: list[str], ids: np.ndarray, total_chars: int | None = None) -> float:
    """``words``: the document's whitespace tokens; ``ids``: their per-document vocabulary ids; ``total_chars``:
    their summed lengths, when the caller has it."""
    if not words:
        return 0.0
    length = min(1.0, math.log1p(len(words)) / _LENGTH_SCALE)
    diversity = _msttr(ids)
    mean_word = (sum(map(len, words)) if total_chars is None else total_chars) / len(words)
    word_length = min(1.0, max(0.0, (mean_word - 3.0) / 5.0))
    return round(0.4 * length + 0.3 * diversity + 0.3 * word_length, 6)
