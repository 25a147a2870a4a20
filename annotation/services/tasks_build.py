"""Building tasks for prompts: the one place that decides which comparisons a prompt's responses form."""

import secrets
from typing import Any

from ..models import Project, Prompt, Response, Task, TaskKind


def chunks(seq: list, size: int = 900):
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def _comparison_groups(response_ids: list[int], k: int) -> list[list[int]]:
    """Chunks of k response ids in id order; the last short chunk is padded from the start."""
    if len(response_ids) < 2:
        return []
    if len(response_ids) <= k:
        return [response_ids]
    groups = [response_ids[i : i + k] for i in range(0, len(response_ids), k)]
    if len(groups[-1]) < k:
        pad = [rid for rid in response_ids if rid not in groups[-1]][: k - len(groups[-1])]
        groups[-1] = groups[-1] + pad
    return groups


def tasks_ensure(
    *,
    project: Project,
    prompts: dict[int, Prompt],
    responses: dict[int, dict[str, Response]],
    gold_for: dict | None = None,
) -> int:
    """Create the tasks the prompts are missing: one demonstration task each, and comparison tasks over groups of
    the project's K responses (gold prompts get one gold task over exactly their K responses). Idempotent."""
    gold_for = gold_for or {}
    kinds = set(project.task_kinds)
    have: dict[int, set] = {pk: set() for pk in prompts}
    for chunk in chunks(list(prompts)):
        for prompt_id, kind, response_ids in Task.objects.filter(prompt_id__in=chunk).values_list(
            "prompt_id", "kind", "response_ids"
        ):
            have[prompt_id].add((kind, frozenset(response_ids)))
    new_tasks: list[Task] = []
    k = project.responses_per_comparison
    for pk in prompts:
        if TaskKind.DEMONSTRATION in kinds and not any(kind == TaskKind.DEMONSTRATION for kind, _ in have[pk]):
            new_tasks.append(Task(project=project, prompt_id=pk, kind=TaskKind.DEMONSTRATION, order_key=_order_key()))
        if TaskKind.COMPARISON not in kinds:
            continue
        if pk in gold_for:
            record, resps = gold_for[pk]
            ids = [resp.pk for resp in resps]
            if (TaskKind.COMPARISON, frozenset(ids)) not in have[pk]:
                gold = [[ids[i] for i in group] for group in record.gold]
                new_tasks.append(_comparison(project, pk, ids, is_gold=True, gold_ranking=gold))
            continue
        for group in _comparison_groups(sorted(resp.pk for resp in responses[pk].values()), k):
            if (TaskKind.COMPARISON, frozenset(group)) not in have[pk]:
                new_tasks.append(_comparison(project, pk, group))
    Task.objects.bulk_create(new_tasks, batch_size=500)
    through = Task.responses.through
    links = [through(task_id=t.pk, response_id=rid) for t in new_tasks for rid in t.response_ids]
    through.objects.bulk_create(links, batch_size=900)
    return len(new_tasks)


def _comparison(project: Project, prompt_id: int, ids: list[int], **extra: Any) -> Task:
    return Task(
        project=project,
        prompt_id=prompt_id,
        kind=TaskKind.COMPARISON,
        response_ids=ids,
        order_key=_order_key(),
        **extra,
    )


def _order_key() -> int:
    return secrets.randbits(63) - 2**62
