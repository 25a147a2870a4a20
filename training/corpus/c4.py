"""C4's cleaning rules (Raffel et al. 2020, section 2.2), the line-level ones that rewrite a document and the
document-level ones that drop it.

"We only retained lines that ended in a terminal punctuation mark ... discarded any page with fewer than 3
sentences and only retained lines that contained at least 5 words ... removed any line with the word Javascript
... removed any page where the phrase 'lorem ipsum' appeared ... removed any pages that contained a curly bracket."
The policy-line and citation rules follow the TFDS implementation of C4. The bad-words rule lives in the harmful
content step, which can drop as well as flag.
"""

import re

from .config import C4Config

_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.I)
_TERMINAL = (".", "!", "?", '"', "'", "\u201d", "\u2019")  # closing double and single quotation marks
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def _line_kept(line: str, cfg: C4Config) -> str | None:
    """Why the line goes, or None to keep it."""
    words = line.split()
    if cfg.max_word_length and any(len(w) > cfg.max_word_length for w in words):
        return "long_word"
    if cfg.terminal_punctuation and not line.rstrip().endswith(_TERMINAL):
        return "no_terminal_punctuation"
    if len(words) < cfg.min_words_per_line:
        return "short_line"
    lower = line.lower()
    if cfg.drop_javascript_lines and "javascript" in lower:
        return "javascript"
    if cfg.drop_policy_lines and any(p in lower for p in _POLICY):
        return "policy"
    return None


def c4_filter(text: str, cfg: C4Config) -> tuple[str | None, str | None, int]:
    """``(new text or None, the rule that dropped the document, lines removed)``."""
    lower = text.lower()
    if cfg.drop_lorem_ipsum and "lorem ipsum" in lower:
        return None, "lorem_ipsum", 0
    if cfg.drop_curly_braces and "{" in text:
        return None, "curly_brace", 0
    kept, removed = [], 0
    for line in text.split("\n"):
        if cfg.remove_citations:
            line = _CITATION.sub("", line)
        if not line.strip():
            kept.append("")
            continue
        if _line_kept(line, cfg) is None:
            kept.append(line)
        else:
            removed += 1
    new_text = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if not new_text:
        return None, "no_lines_left", removed
    if cfg.min_sentences and len(_SENTENCE_END.findall(new_text)) < cfg.min_sentences:
        return None, "too_few_sentences", removed
    return new_text, None, removed
