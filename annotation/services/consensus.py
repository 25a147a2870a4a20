"""Consensus: every judgment of a prompt, rankings expanded to pairs (ties kept as ties), into PreferencePair rows.

A ranking ``[[a], [b, c], [d]]`` says a>b, a>c, a>d, b=c, b>d, c>d. Per unordered pair the votes are counted;
the majority direction becomes chosen/rejected, with margin, agreement and mean strength. Export reads these rows.
"""

from collections import defaultdict
from itertools import combinations

from ..models import Judgment, PreferencePair, Prompt

STRENGTH_VALUE = {"slight": 1.0, "clear": 2.0, "strong": 3.0}


def ranking_pairs(ranking: list[list[int]]) -> list[tuple[int, int, int]]:
    """(lo, hi, outcome) per unordered pair with lo < hi: outcome 1 when lo wins, -1 when hi wins, 0 for a tie."""
    rank_of = {rid: level for level, group in enumerate(ranking) for rid in group}
    out = []
    for a, b in combinations(sorted(rank_of), 2):
        diff = rank_of[b] - rank_of[a]
        out.append((a, b, (diff > 0) - (diff < 0)))
    return out


def consensus_rebuild(*, prompt: Prompt) -> int:
    """Recompute the prompt's preference pairs from all its non-gold comparison judgments."""
    votes: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0])
    judgments = Judgment.objects.filter(task__prompt=prompt, is_gold=False).values_list("ranking", "strength")
    for ranking, strength in judgments:
        weight = STRENGTH_VALUE.get(strength, 0.0)
        for lo, hi, outcome in ranking_pairs(ranking):
            v = votes[(lo, hi)]
            if outcome > 0:
                v[0] += 1
                v[3] += weight
            elif outcome < 0:
                v[1] += 1
                v[4] += weight
            else:
                v[2] += 1
    rows = []
    for (lo, hi), (lo_wins, hi_wins, ties, lo_strength, hi_strength) in votes.items():
        total = lo_wins + hi_wins + ties
        if lo_wins >= hi_wins:
            chosen, rejected, win, lose, strength_sum = lo, hi, lo_wins, hi_wins, lo_strength
        else:
            chosen, rejected, win, lose, strength_sum = hi, lo, hi_wins, lo_wins, hi_strength
        rows.append(
            PreferencePair(
                project_id=prompt.project_id,
                prompt=prompt,
                split=prompt.split,
                chosen_id=chosen,
                rejected_id=rejected,
                votes_chosen=win,
                votes_rejected=lose,
                votes_tie=ties,
                is_tie=win == lose or ties > win,
                margin=(win - lose) / total,
                agreement=win / total,
                strength=strength_sum / win if win else 0.0,
            )
        )
    PreferencePair.objects.filter(prompt=prompt).delete()
    PreferencePair.objects.bulk_create(rows)
    return len(rows)
