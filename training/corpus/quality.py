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

# One scan for the tokens without a letter (whitespace-led, which the regex engine finds fast); group 1 is set for
# the ones that are pure punctuation, which do not count as words.
_NO_LETTER_TOKEN = re.compile(r"\s(?:([^\w\s]+)|(?:[^\w\s]|[\d_])+)(?=\s)")
# The same scan for ASCII texts, 2x faster: the text's bytes mapped to their class first (whitespace to " ", letters
# to "a", digits and "_" to "d", punctuation to "p"), so the regex tests literals instead of Unicode categories.
_ASCII_CLASSES = bytes(
    ord(" ") if c.isspace() else ord("a") if c.isalpha() else ord("d") if c.isdigit() or c == "_" else ord("p")
    for c in map(chr, range(256))
)
_NO_LETTER_CLASSES = re.compile(rb" (?:(p+)|[dp]+)(?= )")
# hyphen, asterisk, and the Unicode bullets, dashes and arrows that lists use
_BULLETS = "-*\u2022\u2023\u2043\u25e6\u25aa\u25ab\u25cf\u25cb\u25a0\u25a1\u2013\u2014\u27a2\u27a4\u2192"
# A bullet after a newline (the text is searched with one prepended): a literal first character lets the regex
# engine jump from newline to newline, 3x faster than ``^`` in multiline mode
_BULLET_LINE = re.compile(rf"\n[ \t]*[{re.escape(_BULLETS)}]")
_ELLIPSIS_LINE = re.compile(r"(?:\.\.\.|\u2026)[ \t]*$", re.M)
_STRIP = "\"'()[]{}<>.,;:!?`*_-"


def _no_letter_tokens(text: str) -> list:
    """One item per whitespace-separated token without a letter: if it is all punctuation, the token (for an ASCII
    text, its class bytes: as long as the token), else empty."""
    if text.isascii():
        return _NO_LETTER_CLASSES.findall(b" " + text.encode("ascii").translate(_ASCII_CLASSES) + b" ")
    return _NO_LETTER_TOKEN.findall(f" {text} ")


def gopher_quality(text: str, words: list[str], cfg: GopherQualityConfig) -> str | None:
    """The name of the first rule the document breaks, or None when it passes them all."""
    no_letter = _no_letter_tokens(text)
    punct = [token for token in no_letter if token]
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
    ellipses = text.count("...") + text.count("\u2026")
    if ellipses / n_words > cfg.max_symbol_word_ratio:
        return "ellipsis_ratio"
    bullets = len(_BULLET_LINE.findall(f"\n{text}"))
    if bullets or ellipses:  # counting lines costs a split: only when a line rule could fire
        lines = sum(1 for line in text.split("\n") if line and not line.isspace())
        if bullets / lines > cfg.max_bullet_lines_ratio:
            return "bullet_lines"
        if ellipses and len(_ELLIPSIS_LINE.findall(text)) / lines > cfg.max_ellipsis_lines_ratio:
            return "ellipsis_lines"
    if (len(words) - len(no_letter)) / len(words) < cfg.min_alpha_words_ratio:
        return "alphabetic_words"
    if cfg.min_stop_words:
        stop = frozenset(cfg.stop_words)
        found = 0
        for word in words:
            if word.lower().strip(_STRIP) in stop:
                found += 1
                if found >= cfg.min_stop_words:
                    break
        if found < cfg.min_stop_words:
            return "stop_words"
    return None
