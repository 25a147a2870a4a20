from training.corpus.config import NormalizeConfig
from training.corpus.normalize import normalize


def test_unicode_forms():
    decomposed = "Cafe\u0301"
    assert normalize(decomposed, NormalizeConfig()) == "Café"
    ligature_and_full_width = "\ufb01ne \uff46\uff55\uff4c\uff4c"
    assert normalize(ligature_and_full_width, NormalizeConfig(unicode_form="NFKC")) == "fine full"
    assert normalize("\ufb01ne", NormalizeConfig(unicode_form="NFC")) == "\ufb01ne"
    assert normalize(decomposed, NormalizeConfig(unicode_form="none", whitespace=False)) == decomposed


def test_whitespace_and_control_characters():
    text = "  a\u00a0b\r\nline two   \r\n\n\n\n\tindented\u200b code\x07\u2028end  "
    assert normalize(text, NormalizeConfig()) == "a b\nline two\n\n\tindented code\nend"


def test_indentation_is_kept():
    code = "Example:\n\n    def f(x):\n        return x\n"
    assert normalize(code, NormalizeConfig()) == code.strip()


def test_off_switches():
    text = "a  \n\n\n\nb\x07"
    assert normalize(text, NormalizeConfig(whitespace=False, strip_control=False)) == text


_SPECIAL = "\r\x0b\x0c\x85\u2028\u2029\u00a0\u3000\u2009\x00\x07\x1f\x7f\x80\x9f\u200b\ufeff\t \n"


def _regex_normalize(text: str) -> str:
    """Whitespace and control handling with the plain regex passes: what the substring-tested version must equal."""
    import re
    import unicodedata

    from training.corpus import normalize as module

    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = module._CONTROL.sub("", text)
    if "\r" in text or not text.isascii():  # (so \x0b and \x0c stay in an ASCII text without \r)
        text = module._LINE_BREAKS.sub("\n", text)
        text = module._ODD_SPACES.sub(" ", text)
    text = re.sub(r"[ \t]+(?=\n)", "", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def test_fast_paths_equal_the_regex_passes():
    import random

    rng = random.Random(7)
    alphabet = "ab é" + _SPECIAL
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert normalize(text, NormalizeConfig()) == _regex_normalize(text), repr(text)


def test_substring_tests_cover_the_regex_classes():
    from training.corpus import normalize as module

    every = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    assert set("".join(module._CONTROL.findall(every))) == set(module._CONTROL_CHARS) | set(map(chr, module._C0_BYTES))
    assert set(module._LINE_BREAKS.findall(every)) == set(module._LINE_BREAK_CHARS)
    assert set(module._ODD_SPACES.findall(every)) == set(module._ODD_SPACE_CHARS)
