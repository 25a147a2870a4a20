"""Language identification with py3langid (langid.py's model, shipped inside the wheel: no download, works
offline), on the first characters of each document, which is enough for a stable answer and keeps the step cheap."""

from functools import lru_cache

from .config import LanguageConfig


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identify(text: str, sample_chars: int = 2000) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of the most likely language."""
    language, probability = _identifier().classify(text[:sample_chars])
    return language, float(probability)


def language_filter(text: str, cfg: LanguageConfig) -> tuple[bool, str, float]:
    """``(keep, language, probability)``."""
    language, probability = identify(text, cfg.sample_chars)
    return language in cfg.languages and probability >= cfg.min_confidence, language, probability
