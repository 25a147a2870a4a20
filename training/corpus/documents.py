"""The unit that flows through the pipeline, and the error every bad input ends as."""

from typing import NamedTuple


class Document(NamedTuple):
    """A document as read: ``id`` is unique within the run (source label + position or the source's own id)."""

    id: str
    text: str
    source: str


class CorpusError(ValueError):
    """Bad input or an outcome the user must act on (an unreadable file, an empty corpus); the message says what to
    change, because it becomes the failed job's headline."""
