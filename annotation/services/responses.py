"""Adding model-generated responses to a project's prompts (the seam training uses; annotation imports nothing back).

The newest policy's samples become candidates, comparison tasks are formed over them, and the next round of human
comparisons can start.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from webapp.api_errors import ApiError

from ..hashing import text_hash
from ..models import Project, Prompt, Response
from .tasks_build import chunks, tasks_ensure


@dataclass
class NewResponse:
    prompt_id: int
    text: str
    model_name: str = ""
    model_version: str = ""
    generation_params: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def responses_add(*, project: Project, responses: list[NewResponse]) -> dict[str, int]:
    """Insert responses (duplicates of a prompt's existing texts are skipped) and build the missing tasks."""
    prompt_ids = {r.prompt_id for r in responses}
    prompts: dict[int, Prompt] = {}
    for chunk in chunks(sorted(prompt_ids)):
        prompts.update({p.pk: p for p in Prompt.objects.filter(project=project, pk__in=chunk)})
    missing = prompt_ids - set(prompts)
    if missing:
        raise ApiError(f"Prompts {sorted(missing)[:10]} are not in project {project.pk}.", code="unknown_prompt")
    existing: dict[int, dict[str, Response]] = {pk: {} for pk in prompts}
    for chunk in chunks(sorted(prompts)):
        for resp in Response.objects.filter(prompt_id__in=chunk):
            existing[resp.prompt_id][resp.text_hash] = resp
    new = []
    for item in responses:
        if not item.text.strip():
            continue
        h = text_hash(item.text)
        if h in existing[item.prompt_id]:
            continue
        resp = Response(
            prompt_id=item.prompt_id,
            text=item.text,
            text_hash=h,
            source="model",
            model_name=item.model_name,
            model_version=item.model_version,
            generation_params=item.generation_params,
        )
        existing[item.prompt_id][h] = resp
        new.append(resp)
    Response.objects.bulk_create(new, batch_size=500)
    tasks = tasks_ensure(project=project, prompts=prompts, responses=existing)
    return {"responses_created": len(new), "tasks_created": tasks}
