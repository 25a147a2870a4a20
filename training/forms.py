"""Forms for launching jobs: one generated from a kind's config JSON Schema, one for where the job runs.

The config form is built from ``training.configs.json_schema`` rather than from the dataclass itself, so the admin
shows exactly what the API documents: the same defaults, the same help text, the same enums. Scalars get typed
inputs; lists, objects and unions get a JSON textarea. Validation beyond types stays in the config dataclass (the
job service runs it); its errors come back as ``ApiError`` with the offending field and are attached to that input.
"""

import json
import re
from typing import Any

from django import forms

from .models import Job, JobStatus
from .runners import KINDS

JSON_ROWS = 6


class PrettyJSONField(forms.JSONField):
    """A JSON textarea whose initial value is indented, so nested defaults are readable and editable."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


def _choice_key(value: Any) -> str:
    return json.dumps(value)


def _enum_field(prop: dict, required: bool, nullable: bool, common: dict) -> forms.Field:
    values = list(prop["enum"])
    choices = [(_choice_key(v), str(v)) for v in values]
    if nullable:
        choices.insert(0, ("", "— (none)"))
    by_key = {_choice_key(v): v for v in values}
    initial = common.pop("initial", None)
    return forms.TypedChoiceField(
        choices=choices,
        coerce=lambda key: by_key[key],
        empty_value=None,
        required=required and not nullable,
        initial=_choice_key(initial) if initial is not None else "",
        **common,
    )


def schema_form_field(prop: dict, *, required: bool, label: str | None = None) -> forms.Field:
    """The form field for one config property: typed for scalars and enums, a JSON textarea for the rest."""
    nullable = bool(prop.get("nullable"))
    common: dict[str, Any] = {"help_text": prop.get("description", ""), "label": label}
    if "default" in prop:
        common["initial"] = prop["default"]
    if "enum" in prop:
        return _enum_field(prop, required, nullable, common)
    kind = prop.get("type")
    if kind == "boolean":
        if nullable:
            return forms.NullBooleanField(required=False, **common)
        return forms.BooleanField(required=False, **common)
    if kind == "integer":
        return forms.IntegerField(required=required, **common)
    if kind == "number":
        return forms.FloatField(required=required, **common)
    if kind == "string":
        return forms.CharField(
            required=required,
            strip=False,
            empty_value=None if nullable else "",
            widget=forms.TextInput(attrs={"class": "vTextField"}),
            **common,
        )
    return PrettyJSONField(
        required=required,
        widget=forms.Textarea(attrs={"rows": JSON_ROWS, "class": "vLargeTextField json-input", "spellcheck": "false"}),
        **common,
    )


class ConfigForm(forms.Form):
    """Base of the generated forms; ``config()`` turns cleaned data back into the JSON the job service validates."""

    schema: dict = {}

    def config(self) -> dict[str, Any]:
        out = {}
        for name, prop in self.schema.get("properties", {}).items():
            value = self.cleaned_data.get(name)
            if value is None and not prop.get("nullable") and name not in self.schema.get("required", []):
                continue  # an emptied input falls back to the field's default rather than sending null
            out[name] = value
        return out

    def is_json_field(self, name: str) -> bool:
        return isinstance(self.fields[name], PrettyJSONField)


def config_form_class(schema: dict) -> type[ConfigForm]:
    required = set(schema.get("required", []))
    # Labels are the config keys themselves: what the API, the CLI's YAML and the job page all call them.
    fields = {
        name: schema_form_field(prop, required=name in required, label=name)
        for name, prop in schema["properties"].items()
    }
    for name, form_field in fields.items():
        default = schema["properties"][name].get("default")
        if type(form_field) is forms.CharField and ("template" in name or "\n" in str(default or "")):
            form_field.widget = forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField", "spellcheck": "false"})
    return type("ConfigForm", (ConfigForm,), {**fields, "schema": schema})


def config_initial(schema: dict, values: dict[str, Any] | None) -> dict[str, Any]:
    """Initial form data for a preset or a cloned job: its values over the schema defaults, in form-field terms."""
    initial = {}
    for name, prop in schema.get("properties", {}).items():
        if values is None or name not in values:
            continue
        value = values[name]
        initial[name] = _choice_key(value) if "enum" in prop and value is not None else value
    return initial


class JobPlacementForm(forms.Form):
    """Where and how the job runs; the kind's default queue is preselected."""

    name = forms.CharField(required=False, max_length=200, help_text="Optional label shown in lists.")
    queue = forms.ChoiceField(
        choices=Job.Queue.choices, help_text="cpu and default run on CPU workers; gpu on GPU hosts."
    )
    gpus = forms.IntegerField(required=False, min_value=0, help_text="GPUs per host (gpu queue).")
    hosts = forms.IntegerField(required=False, min_value=1, help_text="Hosts for multi-node runs.")
    processes = forms.IntegerField(
        required=False, min_value=1, help_text="Processes per host (torchrun), for kinds that run distributed."
    )

    RESOURCE_KEYS = ("gpus", "hosts", "processes")

    def resources(self) -> dict[str, int]:
        return {key: self.cleaned_data[key] for key in self.RESOURCE_KEYS if self.cleaned_data.get(key) is not None}


def top_level_field(path: str | None) -> str | None:
    """``sources[0].path`` → ``sources``: the form input a nested config error belongs to."""
    if not path:
        return None
    return re.split(r"[.\[]", path, maxsplit=1)[0] or None


class JobFilterForm(forms.Form):
    """The job list's filters; an unknown value is a form error, never a 500."""

    kind = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *JobStatus.choices])
    queue = forms.ChoiceField(required=False, choices=[("", "any queue"), *Job.Queue.choices])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = set(KINDS) | set(Job.objects.order_by().values_list("kind", flat=True).distinct())
        self.fields["kind"].choices = [("", "any kind"), *((k, k) for k in sorted(kinds))]
