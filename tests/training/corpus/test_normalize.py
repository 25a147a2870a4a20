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
