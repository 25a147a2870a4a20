"""Reward functions for tests: importable by dotted path, as users' own would be."""


def _text(completion) -> str:
    return completion if isinstance(completion, str) else " ".join(m["content"] for m in completion)


def shortness(prompts, completions, **kwargs) -> list[float]:
    """Higher for shorter completions."""
    return [-len(_text(c)) / 100.0 for c in completions]
