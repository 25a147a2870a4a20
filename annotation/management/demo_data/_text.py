"""Hand-written demo text is indented in the source; this strips that."""

from textwrap import dedent


def t(text: str) -> str:
    return dedent(text).strip("\n")
