"""Consensus: every judgment of a prompt, rankings expanded to pairs (ties kept as ties), into PreferencePair rows.

A ranking ``[[a], [b, c], [d]]`` says a>b, a>c, a>d, b=c, b>d, c>d. Per unordered pair the votes are counted;
the majority direction becomes chosen/rejected, with margin, agreement and mean strength. Export reads these rows.
"""

from collections import defaultdict
from functools import cache
from itertools import combinations

import orjson
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
        # SQLite: the prompt's task ids, then their judgments (two index lookups). PostgreSQL reads them in one
        # statement ("votes_one", below).
        "tasks": f"SELECT {f.q('id')} FROM {f.table(Task)} WHERE {f.col(Task, 'prompt')} = %s",
        "votes": (
            f"SELECT {f.col(Judgment, 'ranking')}, {f.col(Judgment, 'strength')} FROM {f.table(Judgment)} "
            f"WHERE {{tasks}} AND {f.col(Judgment, 'is_gold')} IN (%s) ORDER BY {f.q('id')}"
        ),
        "delete": f"DELETE FROM {f.table(PreferencePair)} WHERE {f.col(PreferencePair, 'prompt')} = %s",
        **(_pg_sql() if vendor == "postgresql" else {}),
    }


def _pg_sql() -> dict[str, str]:
    """PostgreSQL: the read in one statement and the replacement in another (two round trips instead of four)."""
    f = fastsql
    pair, fields = f.table(PreferencePair), [PreferencePair._meta.get_field(name) for name in PAIR_FIELDS]
    names = ", ".join(f.q(column) for column in _pair_columns())
    record = ", ".join(f"{f.q(field.column)} {field.db_type(connection)}" for field in fields)
    return {
        # One index lookup per task of the prompt (see _prompt_judgments).
        "votes_one": (
            f"SELECT v.{f.col(Judgment, 'ranking')}, v.{f.col(Judgment, 'strength')} FROM {_prompt_judgments()} "
            f"ORDER BY v.{f.q('id')}"
        ),
        # The rows as one JSON array (one parameter, cheap to send), so the statement's text (and its prepared
        # plan) is the same for any number of pairs; jsonb_to_recordset keeps their order. The insert reads
        # count(*) of the delete first, so the old rows are gone (deleted by this transaction) before the new ones
        # meet the (prompt, chosen, rejected) unique constraint.
        "replace": (
            f"WITH d AS (DELETE FROM {pair} WHERE {f.col(PreferencePair, 'prompt')} = %s RETURNING 1) "
            f"INSERT INTO {pair} ({names}) SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS x({record}) "
            f"WHERE (SELECT count(*) FROM d) >= 0"
        ),
    }


@cache
def _pair_columns() -> tuple[str, ...]:
    return tuple(PreferencePair._meta.get_field(name).column for name in PAIR_FIELDS)


def ranking_pairs(ranking: list[list[int]]) -> list[tuple[int, int, int]]:
    """(lo, hi, outcome) per unordered pair with lo < hi: outcome 1 when lo wins, -1 when hi wins, 0 for a tie."""
    rank_of = {rid: level for level, group in enumerate(ranking) for rid in group}
    out = []
    for a, b in combinations(sorted(rank_of), 2):
        diff = rank_of[b] - rank_of[a]
        out.append((a, b, (diff > 0) - (diff < 0)))
    return out


def _prompt_judgments() -> str:
    """PostgreSQL: ``FROM`` the prompt's tasks, each joined to its non-gold judgments as ``v`` (parameters:
    ``False``, then the prompt's id).

    A nested loop of index lookups, one per task (a prompt has a task or two): the subquery is kept from being
    flattened into a join (``OFFSET 0``), which PostgreSQL planned on young tables as a hash join over a scan of
    every judgment, and so is ``judgment.task_id = ANY(<the task ids>)``, whose selectivity it cannot guess either:
    both read the whole table on every submit (bench/annotation_load.py, with autovacuum behind or off).
    """
    f = fastsql
    return (
        f"{f.table(Task)} t CROSS JOIN LATERAL (SELECT {f.q('id')}, {f.col(Judgment, 'ranking')}, "
        f"{f.col(Judgment, 'strength')} FROM {f.table(Judgment)} j WHERE j.{f.col(Judgment, 'task')} = t.{f.q('id')} "
        f"AND j.{f.col(Judgment, 'is_gold')} IN (%s) OFFSET 0) v WHERE t.{f.col(Task, 'prompt')} = %s"
    )


def votes_sql() -> str:
    """PostgreSQL: the prompt's non-gold judgments' (ranking, strength) as one JSON array in id order, for a
    statement that reads them beside its writes (parameters: ``False``, then the prompt's id)."""
    f = fastsql
    return (
        f"SELECT json_agg(json_build_array(v.{f.col(Judgment, 'ranking')}, v.{f.col(Judgment, 'strength')}) "
        f"ORDER BY v.{f.q('id')}) FROM {_prompt_judgments()}"
    )


def _judgments_of(prompt: Prompt) -> list[tuple]:
    """The prompt's non-gold judgments' (ranking, strength), in id order."""
    sql = _sql(connection.vendor)
    if "votes_one" in sql:
        return fastsql.fetchall(sql["votes_one"], [False, prompt.pk])
    task_ids = [pk for (pk,) in fastsql.fetchall(sql["tasks"], [prompt.pk])]
    tasks, params = fastsql.id_in(fastsql.col(Judgment, "task"), task_ids)
    return fastsql.fetchall(sql["votes"].format(tasks=tasks), [*params, False])


def consensus_rebuild(*, prompt: Prompt, judgments: list | None = None) -> int:
    """Recompute the prompt's preference pairs from all its non-gold comparison judgments.

    ``judgments``: their (ranking, strength) in id order when the caller has read them already.
    """
    votes: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0.0])
    sql = _sql(connection.vendor)
    for ranking, strength in _judgments_of(prompt) if judgments is None else judgments:
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
    if "replace" in sql:
        columns = _pair_columns()
        records = orjson.dumps([dict(zip(columns, row, strict=True)) for row in rows]).decode()
        fastsql.execute(sql["replace"], [prompt.pk, records])
    else:
        fastsql.execute(sql["delete"], [prompt.pk])
        fastsql.insert_many(PreferencePair, PAIR_FIELDS, rows)
    return len(rows)
