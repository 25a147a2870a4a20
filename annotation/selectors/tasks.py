"""What an annotator sees of a task, and the reviewers' queue."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from webapp import fastsql

from ..models import Assignment, Demonstration, Project, Response
from ..rendering import render_markdown


def _response_texts(ids: list[int]) -> dict[int, str]:
    # Runs on every next-task request: one hand-written statement (webapp/fastsql.py) rather than an ORM query.
    if not ids:
        return {}
    where, params = fastsql.id_in(fastsql.col(Response, "id"), ids)
    sql = f"SELECT {fastsql.col(Response, 'id')}, {fastsql.col(Response, 'text')} FROM {fastsql.table(Response)} "
    return dict(fastsql.fetchall(sql + f"WHERE {where}", params))


def task_payload(assignment: Assignment, *, html: bool = False) -> dict[str, Any]:
    """The task with its responses in the annotator's recorded display order; gold status is never revealed."""
    task = assignment.task
    prompt = task.prompt
    texts = getattr(assignment, "response_texts", None)  # read with the lease by the serving statement (PostgreSQL)
    if texts is None:
        texts = _response_texts(assignment.display_order)
    responses = [{"id": rid, "text": texts[rid]} for rid in assignment.display_order]
    payload: dict[str, Any] = {
        "id": task.pk,
        "kind": task.kind,
        "project": task.project_id,
        "expires_at": assignment.expires_at,
        "responses": responses,
    }
    if task.kind == "demonstration":
        # Demonstration tasks rank nothing, but the annotator may start from (edit) one of the prompt's responses.
        payload["candidates"] = [
            {"id": pk, "text": text} for pk, text in Response.objects.filter(prompt=prompt).values_list("pk", "text")
        ]
    if prompt.is_conversation:
        payload["messages"] = prompt.messages
    else:
        payload["prompt"] = prompt.messages[0]["content"]
    if html:
        for item in [*responses, *payload.get("candidates", [])]:
            item["html"] = render_markdown(item["text"])
        payload["messages_html"] = [{"role": m["role"], "html": render_markdown(m["content"])} for m in prompt.messages]
    return payload


def demonstrations_for_review(
    *, project: Project, status: str = "pending", reviewer: AbstractBaseUser | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    qs = (
        Demonstration.objects.filter(task__project=project, review_status=status)
        .select_related("task__prompt", "annotator", "source_response")
        .order_by("id")
    )
    if reviewer is not None and not reviewer.is_staff:
        qs = qs.exclude(annotator=reviewer)
    return [
        {
            "id": d.pk,
            "task": d.task_id,
            "annotator": d.annotator.username,
            "messages": d.task.prompt.messages,
            "text": d.text,
            "original_text": d.original_text,
            "edited_from_response": d.source_response_id,
            "review_status": d.review_status,
            "review_comment": d.review_comment,
            "created_at": d.created_at,
        }
        for d in qs[:limit]
    ]
