"""Submitting comparison judgments: validated against the task, idempotent, counted exactly once."""

from functools import cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from webapp import fastsql
from webapp.api_errors import ApiError, Conflict

from ..models import Assignment, Judgment, Project, Strength, TaskKind
from .assignment import (
    assignment_finish,
    finish_statements,
    lease_check_submittable,
    lease_locked,
    submit_fields_check,
    task_id_check,
)
from .consensus import consensus_rebuild, votes_sql
from .submissions import no_lease, replay

FLAGS = {"unsafe", "pii", "prompt_broken"}


def normalize_ranking(ranking: Any, response_ids: list[int], *, ties_allowed: bool) -> list[list[int]]:
    """Validate a ranking (ids best first; a nested list groups tied ids) and return it as groups."""
    if not isinstance(ranking, list) or not ranking:
        raise ApiError("ranking must be a non-empty list of response ids, best first.", code="invalid_ranking")
    groups, seen = [], []
    for entry in ranking:
        group = entry if isinstance(entry, list) else [entry]
        if not group or not all(isinstance(i, int) and not isinstance(i, bool) for i in group):
            raise ApiError("ranking entries must be response ids or lists of tied ids.", code="invalid_ranking")
        if len(group) > 1 and not ties_allowed:
            raise ApiError("This project does not allow ties.", code="ties_not_allowed")
        groups.append(group)
        seen.extend(group)
    if sorted(seen) != sorted(response_ids):
        raise ApiError(
            f"ranking must name each of this task's responses exactly once: {sorted(response_ids)}.",
            code="invalid_ranking",
        )
    return groups


def ranking_from_choice(choice: Any, response_ids: list[int]) -> list:
    """A pairwise choice (a response id, or "tie") as a ranking."""
    if len(response_ids) != 2:
        raise ApiError("choice is for pairwise tasks; send a ranking for K-way tasks.", code="invalid_choice")
    if choice == "tie":
        return [list(response_ids)]
    if choice not in response_ids:
        raise ApiError(f'choice must be one of {response_ids} or "tie".', code="invalid_choice")
    return [choice, next(r for r in response_ids if r != choice)]


def _validate_criteria(criteria: Any, project: Project, response_ids: list[int]) -> dict:
    if not criteria:
        return {}
    if not isinstance(criteria, dict):
        raise ApiError("criteria must be an object keyed by criterion name.", code="invalid_criteria")
    unknown = set(criteria) - set(project.criteria)
    if unknown:
        raise ApiError(
            f"Unknown criteria {sorted(unknown)}; this project has {project.criteria}.",
            code="invalid_criteria",
        )
    out = {}
    for name, value in criteria.items():
        if not isinstance(value, dict) or not ({"ranking", "ratings"} & set(value)):
            raise ApiError(f'criteria.{name} must hold "ranking" and/or "ratings".', code="invalid_criteria")
        entry: dict[str, Any] = {}
        if "ranking" in value:
            entry["ranking"] = normalize_ranking(value["ranking"], response_ids, ties_allowed=project.ties_allowed)
        if "ratings" in value:
            ratings = value["ratings"]
            if not isinstance(ratings, dict):
                raise ApiError(f"criteria.{name}.ratings must map response id to 1-7.", code="invalid_criteria")
            clean = {}
            for rid, score in ratings.items():
                if str(rid) not in {str(r) for r in response_ids}:
                    raise ApiError(f"criteria.{name}.ratings names unknown response {rid}.", code="invalid_criteria")
                if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 7:
                    raise ApiError(f"criteria.{name}.ratings values must be integers 1-7.", code="invalid_criteria")
                clean[str(rid)] = score
            entry["ratings"] = clean
        out[name] = entry
    return out


def judgment_submit(
    *,
    task_id: int,
    annotator: AbstractBaseUser,
    ranking: Any = None,
    choice: Any = None,
    strength: str = "",
    criteria: Any = None,
    rationale: str = "",
    flags: Any = None,
    time_spent_ms: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[Judgment, bool]:
    """Record the annotator's judgment; returns (judgment, created). A replayed Idempotency-Key returns the original."""
    task_id_check(task_id)
    submit_fields_check(idempotency_key=idempotency_key, time_spent_ms=time_spent_ms)
    try:
        return _submit(
            task_id=task_id,
            annotator=annotator,
            ranking=ranking,
            choice=choice,
            strength=strength,
            criteria=criteria,
            rationale=rationale,
            flags=flags,
            time_spent_ms=time_spent_ms,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        existing = _replay(annotator, idempotency_key, task_id)
        if existing is None:
            raise Conflict("This judgment was already submitted.", code="already_submitted") from None
        return existing, False


@cache
def _record_sql(fields: tuple[str, ...], finish: str, count: str) -> str:
    insert = fastsql.insert_sql(Judgment, fields, "postgresql")
    return (
        f"WITH j AS ({insert}), a AS ({finish}), t AS ({count}) "
        f"SELECT (SELECT {fastsql.q('id')} FROM j), ({votes_sql()})"
    )


def _record_one_statement(
    values: dict[str, Any], assignment: Assignment, project: Project, *, prompt_id: int
) -> tuple[Judgment, list[tuple[Any, str]]]:
    """PostgreSQL: insert the judgment, mark the lease submitted, count it on the task and read the prompt's earlier
    judgments for the consensus, in one statement (one round trip instead of four; a repeated Idempotency-Key
    fails the whole statement, as it failed the insert).

    The read sees the statement's snapshot, so not the new judgment: the caller adds it (it has the highest id of
    the prompt's judgments, since the prompt row is locked from before its insert until commit).
    """
    (finish, finish_params), (count, count_params) = finish_statements(assignment, project)
    sql = _record_sql(tuple(values), finish, count)
    params = [*fastsql.prep_row(Judgment, values), *finish_params, *count_params, False, prompt_id]
    pk, earlier = fastsql.fetchone(sql, params)
    votes = [(fastsql.json_value(ranking), strength) for ranking, strength in fastsql.json_value(earlier) or []]
    return fastsql.saved(Judgment, pk, values), votes


def _replay(annotator: AbstractBaseUser, key: str | None, task_id: int) -> Judgment | None:
    return replay(Judgment, annotator=annotator, key=key, task_id=task_id)


@transaction.atomic
def _submit(*, task_id: int, annotator: AbstractBaseUser, idempotency_key: str | None, **body: Any):
    # The Idempotency-Key is looked up after the lease is locked (a concurrent retry has committed by then), and only
    # when the lease is no longer open: an open lease has no judgment yet, and a key already used on another task
    # trips the unique (annotator, key) constraint at the insert, answered in judgment_submit. One query less.
    # Lock the lease and the prompt, not the project: submits to other prompts run in parallel, while the consensus
    # rebuild below (which deletes and re-inserts the prompt's pairs) is serialized per prompt and sees every vote.
    assignment = lease_locked(task_id=task_id, annotator=annotator)
    if assignment is None:
        existing = _replay(annotator, idempotency_key, task_id)  # a key used for another task is a 409, not a 404
        if existing is not None:
            return existing, False
        no_lease(task_id=task_id, annotator=annotator)
    if assignment.status not in (Assignment.Status.ACTIVE, Assignment.Status.EXPIRED):
        existing = _replay(annotator, idempotency_key, task_id)  # a concurrent retry may have committed meanwhile
        if existing is not None:
            return existing, False
    task, project = assignment.task, assignment.task.project
    if task.kind != TaskKind.COMPARISON:
        raise ApiError("This is a demonstration task; submit a demonstration.", code="wrong_kind")
    lease_check_submittable(assignment, project)

    response_ids = list(task.response_ids)
    if body["ranking"] is None and body["choice"] is None:
        raise ApiError("Send a ranking (or a pairwise choice).", code="invalid_ranking")
    ranking = body["ranking"] if body["ranking"] is not None else ranking_from_choice(body["choice"], response_ids)
    groups = normalize_ranking(ranking, response_ids, ties_allowed=project.ties_allowed)
    strength = body["strength"] or ""
    if strength and strength not in Strength.values:
        raise ApiError(f"strength must be one of {Strength.values}.", code="invalid_strength")
    flags = body["flags"] or []
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags) or set(flags) - FLAGS:
        raise ApiError(f"flags must be a list drawn from {sorted(FLAGS)}.", code="invalid_flags")
    time_spent = body["time_spent_ms"]
    if time_spent is not None and (not isinstance(time_spent, int) or isinstance(time_spent, bool) or time_spent < 0):
        raise ApiError("time_spent_ms must be a non-negative integer.", code="invalid_time")

    values = {
        "task_id": task.pk,
        "assignment_id": assignment.pk,
        "annotator_id": annotator.pk,
        "ranking": groups,
        "strength": strength,
        "criteria": _validate_criteria(body["criteria"], project, response_ids),
        "rationale": body["rationale"] or "",
        "flags": sorted(set(flags)),
        "time_spent_ms": time_spent,
        "display_order": assignment.display_order,
        "is_gold": task.is_gold,
        "idempotency_key": idempotency_key or None,
        "created_at": timezone.now(),
    }
    if connection.vendor == "postgresql":
        judgment, earlier = _record_one_statement(values, assignment, project, prompt_id=task.prompt_id)
        judgments = [*earlier, (groups, strength)]
    else:
        judgment = fastsql.create(Judgment, values)
        assignment_finish(assignment, project)
        judgments = None  # consensus_rebuild reads them
    if not task.is_gold:
        consensus_rebuild(prompt=task.prompt, judgments=judgments)
    return judgment, True
