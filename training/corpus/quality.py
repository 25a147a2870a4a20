"""Gopher's document quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1).

"...remove any document that does not contain between 50 and 100,000 words, or whose mean word length is outside
the range of 3 to 10 characters; ... with a symbol-to-word ratio greater than 0.1 for either the hash symbol or the
ellipsis; ... with more than 90% of lines starting with a bullet point, or more than 30% ending with an ellipsis.
We also require that 80% of words in a document contain at least one alphabetic character, and apply a stop word
filter, to remove documents that do not contain at least two of the following English words: the, be, to, of, and,
that, have, with." Words are whitespace-separated tokens; tokens made only of punctuation are not counted as words
(as in datatrove). Each rule returns its name when it fires, so the funnel can say which rule removed what.
"""

import re

from .config import GopherQualityConfig

_PUNCT_TOKEN = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")
_ALPHA_TOKEN = re.compile(r"(?<!\S)\S*?[^\W\d_]\S*")  # one match per token that holds a letter
# hyphen, asterisk, and the Unicode bullets, dashes and arrows that lists use
_BULLETS = ("-", "*", *"\u2022\u2023\u2043\u25e6\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u2013\u2014\u27a2\u27a4\u2192")
_ELLIPSES = ("...", "…")
_STRIP = "\"'()[]{}<>.,;:!?`*_-"


def gopher_quality(text: str, words: list[str], cfg: GopherQualityConfig) -> str | None:
    """The name of the first rule the document breaks, or None when it passes them all."""
    punct = _PUNCT_TOKEN.findall(text)
    n_words = len(words) - len(punct)
    if n_words < cfg.min_words:
        return "too_few_words"
    if n_words > cfg.max_words:
        return "too_many_words"
    word_chars = sum(map(len, words)) - sum(map(len, punct))
    mean_length = word_chars / n_words
    if mean_length < cfg.min_mean_word_length:
        return "mean_word_length_low"
    if mean_length > cfg.max_mean_word_length:
        return "mean_word_length_high"
    if text.count("#") / n_words > cfg.max_symbol_word_ratio:
        return "hash_ratio"
    if (text.count("...") + text.count("…")) / n_words > cfg.max_symbol_word_ratio:
        return "ellipsis_ratio"
    lines = [line for line in text.split("\n") if line.strip()]
    if lines:
        bullets = sum(1 for line in lines if line.lstrip().startswith(_BULLETS))
        if bullets / len(lines) > cfg.max_bullet_lines_ratio:
            return "bullet_lines"
        ellipses = sum(1 for line in lines if line.endswith(_ELLIPSES))
        if ellipses / len(lines) > cfg.max_ellipsis_lines_ratio:
            return "ellipsis_lines"
    alpha = sum(1 for _ in _ALPHA_TOKEN.finditer(text))
    if alpha / len(words) < cfg.min_alpha_words_ratio:
        return "alphabetic_words"
    if cfg.min_stop_words:
        stop = frozenset(cfg.stop_words)
        found = 0
        for word in text.lower().split():
            if word.strip(_STRIP) in stop:
                found += 1
                if found >= cfg.min_stop_words:
                    break
        if found < cfg.min_stop_words:
            return "stop_words"
    return None
