"""The demo's prompts and hand-written candidate responses (``manage.py seed_demo``).

Each item is ``{"id", "topic", "prompt" | "messages", "candidates": [best, ..., worst]}``. Candidates are listed by
quality, best first, so the demo knows the right answer for its gold items; seed_demo shuffles them before import so
the stored order says nothing. They are written by hand for now; ``seed_demo.handwritten_candidates`` is the one
place that reads them, so model generations can take their place without touching the prompts.
"""

from . import conversations, three, two

ITEMS: list[dict] = [*three.ITEMS, *two.ITEMS, *conversations.ITEMS]
