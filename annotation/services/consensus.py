"""Consensus: every judgment of a prompt, rankings expanded to pairs (ties kept as ties), into PreferencePair rows.

A ranking ``[[a], [b, c], [d]]`` says a>b, a>c, a>d, b=c, b>d, c>d. Per unordered pair the votes are counted;
the majority direction becomes chosen/rejected, with margin, agreement and mean strength. Export reads these rows.
"""

from collections import defaultdict
from functools import cache
from itertools import combinations

from django.db import connection

from webapp import fastsql

from ..models import Judgment, PreferencePair, Prompt, Task

STRENGTH_VALUE = {"slight": 1.0, "clear": 2.0, "strong": 3.0}
PAIR_FIELDS = (
    "project_id",
    "prompt_id",
    "split",
    "chosen_id",
    "rejected_id",
    "votes_chosen",
    "votes_rejected",
    "votes_tie",
    "is_tie",
    "margin",
    "agreement",
    "strength",
)


@cache
def _sql(vendor: str) -> dict[str, str]:
    # Rebuilt on every submit: hand-written statements (webapp/fastsql.py) instead of ORM queries.
    f = fastsql
    return {
        # Two plain index lookups rather than one join: with stale statistics (a young table, autovacuum behind)
        # PostgreSQL planned the join as a scan of every judgment of the project, on every submit.
        "tasks": f"SELECT {f.q('id')} FROM {f.table(Task)} WHERE {f.col(Task, 'prompt')} = %s",
        "votes": (
            f"SELECT {f.col(Judgment, 'ranking')}, {f.col(Judgment, 'strength')} FROM {f.table(Judgment)} "
            f"WHERE {{tasks}} AND {f.col(Judgment, 'is_gold')} IN (%s) ORDER BY {f.q('id')}"
        ),
        "delete": f"DELETE FROM {f.table(PreferencePair)} WHERE {f.col(PreferencePair, 'prompt')} = %s",
    }


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
    sql = _sql(connection.vendor)
    task_ids = [pk for (pk,) in fastsql.fetchall(sql["tasks"], [prompt.pk])]
    tasks, params = fastsql.id_in(fastsql.col(Judgment, "task"), task_ids)
    for ranking, strength in fastsql.fetchall(sql["votes"].format(tasks=tasks), [*params, False]):
        ranking = fastsql.json_value(ranking)
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
            (
                prompt.project_id,
                prompt.pk,
                prompt.split,
                chosen,
                rejected,
                win,
                lose,
                ties,
                win == lose or ties > win,
                (win - lose) / total,
                win / total,
                strength_sum / win if win else 0.0,
            )
        )
    fastsql.execute(_sql(connection.vendor)["delete"], [prompt.pk])
    fastsql.insert_many(PreferencePair, PAIR_FIELDS, rows)
    return len(rows)
