"""The admin's "add job" page: pick a kind, then a form generated from that kind's config schema.

Submitting calls ``job_launch`` (or ``job_clone`` when the form started from an existing job), the same service the
API and the CLI use, so the admin cannot create a job the API would refuse. A config error comes back as an
``ApiError`` naming the field (dotted for nested ones); it is attached to the input it belongs to and nothing is
created, because the service validates before it writes.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from webapp.api_errors import ApiError

from ..configs import artifact_fields, json_schema
from ..forms import ConfigForm, JobPlacementForm, config_form_class, config_initial, top_level_field
from ..models import Job
from ..presets import presets_for
from ..runners import KINDS
from ..services import job_launch

INPUT_ERROR_CODES = {"no_input", "unknown_input"}


@dataclass
class KindChoice:
    name: str
    description: str
    queue: str
    url: str
    presets: list[tuple[str, str]]
    error: str = ""


def add_url(**params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse("admin:training_job_add") + (f"?{query}" if query else "")


def _kind_choices() -> list[KindChoice]:
    out = []
    for kind in KINDS.values():
        choice = KindChoice(
            kind.name,
            kind.description,
            kind.queue,
            add_url(kind=kind.name),
            [(name, add_url(kind=kind.name, preset=name)) for name in presets_for(kind.name)],
        )
        try:
            kind.load_config_class()
        except Exception as exc:  # a kind whose runner module is broken must not take the whole page down
            choice.error = f"{type(exc).__name__}: {exc}"
        out.append(choice)
    return out


def _attach_error(exc: ApiError, config_form: ConfigForm, placement: JobPlacementForm, config_class: type) -> None:
    detail = str(exc.detail).removeprefix("Invalid config: ")
    field = top_level_field(exc.extra.get("field"))
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else ""
    if field is None and code in INPUT_ERROR_CODES:
        inputs = list(artifact_fields(config_class))
        field = inputs[0] if len(inputs) == 1 else None
    if field and field in config_form.fields:
        config_form.add_error(field, detail)
    elif code == "invalid_queue":
        placement.add_error("queue", detail)
    elif code == "invalid_resources":
        named = re.search(r"resources\.(\w+)", detail)
        placement.add_error(named.group(1) if named and named.group(1) in placement.fields else None, detail)
    else:
        config_form.add_error(None, detail)


def _source_job(request: HttpRequest) -> Job | None:
    ref = request.POST.get("clone") or request.GET.get("clone") or ""
    return Job.objects.filter(pk=int(ref)).first() if ref.isdigit() else None


def launch_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    source = _source_job(request)
    kind_name = source.kind if source else request.POST.get("kind") or request.GET.get("kind") or ""
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, "add": True}
    if not kind_name:
        context.update(title="Launch a job", kinds=_kind_choices())
        return TemplateResponse(request, "training/admin/job_kind_choice.html", context)
    kind = KINDS.get(kind_name)
    if kind is None:
        model_admin.message_user(request, f"Unknown job kind {kind_name!r}.", messages.ERROR)
        return redirect(add_url())
    try:
        config_class = kind.load_config_class()
    except Exception as exc:
        model_admin.message_user(request, f"The {kind_name} runner cannot be loaded: {exc}", messages.ERROR)
        return redirect(add_url())
    schema = json_schema(config_class)
    form_class = config_form_class(schema)
    presets = presets_for(kind_name)
    preset = request.GET.get("preset", "")
    if request.method == "POST":
        config_form = form_class(request.POST, prefix="config")
        placement = JobPlacementForm(request.POST, prefix="job")
        if config_form.is_valid() and placement.is_valid():
            try:
                job = _launch(request, kind_name, source, config_form, placement)
            except ApiError as exc:
                _attach_error(exc, config_form, placement, config_class)
            else:
                model_admin.log_addition(request, job, [{"added": {}}])
                page = reverse("training:job-detail", args=[job.pk])
                model_admin.message_user(
                    request, format_html('Launched <a href="{}">{}</a>.', page, job), messages.SUCCESS
                )
                return redirect(page)
    else:
        values = source.config if source else presets.get(preset)
        if preset and preset not in presets:
            model_admin.message_user(request, f"No preset {preset!r} for {kind_name}.", messages.WARNING)
        config_form = form_class(prefix="config", initial=config_initial(schema, values))
        placement = JobPlacementForm(prefix="job", initial=_placement_initial(source, kind.queue))
    context.update(
        title=f"Clone {source}" if source else f"Launch {kind_name}",
        kind=kind,
        schema=schema,
        source=source,
        preset=preset if preset in presets else "",
        presets=[(name, add_url(kind=kind_name, preset=name)) for name in presets],
        defaults_url=add_url(kind=kind_name),
        config_form=config_form,
        config_rows=_rows(config_form),
        placement=placement,
        placement_rows=_rows(placement),
        kinds_url=add_url(),
    )
    return TemplateResponse(request, "training/admin/job_add.html", context)


def _placement_initial(source: Job | None, queue: str) -> dict[str, Any]:
    if source is None:
        return {"queue": queue}
    resources = {k: source.resources.get(k) for k in JobPlacementForm.RESOURCE_KEYS}
    return {"queue": source.queue, "name": source.name, **resources}


def _launch(request, kind: str, source: Job | None, config_form: ConfigForm, placement: JobPlacementForm) -> Job:
    # A clone is a launch that remembers its source; the edited name, queue and resources apply to it too.
    return job_launch(
        kind=kind,
        config=config_form.config(),
        created_by=request.user,
        name=placement.cleaned_data["name"],
        queue=placement.cleaned_data["queue"],
        resources=placement.resources(),
        source_job=source,
    )


def _rows(form: forms.Form) -> list[dict[str, Any]]:
    """Bound fields with what the template needs to lay them out (JSON inputs span the full width)."""
    rows = []
    for bound in form:
        is_json = isinstance(form, ConfigForm) and form.is_json_field(bound.name)
        if is_json:  # tall enough to show the whole value, up to a point
            text = str(bound.value())  # already prepared: the JSON as the textarea will show it
            bound.field.widget.attrs["rows"] = min(24, max(3, text.count("\n") + 2))
        rows.append({"field": bound, "is_json": is_json, "is_checkbox": bound.widget_type == "checkbox"})
    return rows
