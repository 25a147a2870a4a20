"""Unicode and whitespace normalization: the same text typed two ways becomes the same string.

Indentation is kept (documentation is full of code examples whose meaning depends on it); what changes is what no
reader can see: the Unicode form, line-ending style, exotic spaces, trailing blanks, invisible control characters
and runs of blank lines.
"""

import re
import unicodedata

from .config import NormalizeConfig

# Control characters (C0 except tab/newline/CR, DEL, C1) and zero-width characters: invisible, never meaningful.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200b\u200c\u200d\u2060\ufeff]+")
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_TRAILING = re.compile(r"[ \t]+(?=\n)")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize(text: str, cfg: NormalizeConfig) -> str:
    if cfg.unicode_form != "none" and not unicodedata.is_normalized(cfg.unicode_form, text):
        text = unicodedata.normalize(cfg.unicode_form, text)
    if cfg.strip_control:
        text = _CONTROL.sub("", text)
    if cfg.whitespace:
        if "\r" in text or not text.isascii():
            text = _LINE_BREAKS.sub("\n", text)
            text = _ODD_SPACES.sub(" ", text)
        if " \n" in text or "\t\n" in text:  # substring tests are ~10x cheaper than a regex pass that finds nothing
            text = _TRAILING.sub("", text)
        if "\n\n\n" in text:
            text = _BLANK_RUNS.sub("\n\n", text)
        text = text.strip()
    return text
