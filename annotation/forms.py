"""Forms for the engineers' admin: project settings, JSONL upload, snapshot filters, review comments.

The filter forms build the same ``PreferenceFilters`` / ``SftFilters`` the API and the management commands use, so
a snapshot frozen from the admin hashes the same as one frozen through the API with the same filters.
"""

from django import forms

from .models import Project
from .models.projects import default_criteria
from .selectors.export import SPLITS, PreferenceFilters, SftFilters
from .services.projects import EDITABLE_FIELDS

SPLIT_CHOICES = [("", "All splits"), *((s, s.capitalize()) for s in SPLITS)]
STYLE_CHOICES = [("standard", "Standard (strings)"), ("conversational", "Conversational (message lists)")]


class ProjectAdminForm(forms.ModelForm):
    """Task kinds as checkboxes and criteria as a comma-separated line instead of raw JSON."""

    task_kinds = forms.MultipleChoiceField(
        choices=[("comparison", "Comparison"), ("demonstration", "Demonstration")],
        widget=forms.CheckboxSelectMultiple,
    )
    criteria = forms.CharField(
        required=False,
        help_text="Comma-separated criterion names, e.g. helpfulness, harmlessness, honesty.",
        widget=forms.TextInput(attrs={"size": 60}),
    )

    class Meta:
        model = Project
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        criteria = self.instance.criteria if self.instance.pk else default_criteria()
        self.initial["criteria"] = ", ".join(criteria or [])
        if not self.instance.pk:
            self.initial.setdefault("task_kinds", ["comparison", "demonstration"])

    def clean_criteria(self) -> list[str]:
        names = [name.strip() for name in self.cleaned_data["criteria"].split(",") if name.strip()]
        if len(set(names)) != len(names):
            raise forms.ValidationError("Criterion names must be unique.")
        return names


class ImportPromptsForm(forms.Form):
    file = forms.FileField(
        label="JSONL file",
        help_text=(
            'One JSON object a line: {"id"?, "prompt": str | "messages": [...], "responses"?: [str | {"text", '
            '"model"?}], "metadata"?, "gold"?: {"ranking": [indices]}}. One bad line rejects the whole file.'
        ),
    )


class PreferenceFreezeForm(forms.Form):
    split = forms.ChoiceField(choices=SPLIT_CHOICES, required=False)
    style = forms.ChoiceField(choices=STYLE_CHOICES, initial="standard")
    min_agreement = forms.FloatField(required=False, min_value=0.0, max_value=1.0)
    include_ties = forms.BooleanField(required=False)

    def filters(self) -> PreferenceFilters:
        data = self.cleaned_data
        return PreferenceFilters(
            split=data["split"] or None,
            style=data["style"],
            min_agreement=data["min_agreement"],
            include_ties=data["include_ties"],
        )


class SftFreezeForm(forms.Form):
    split = forms.ChoiceField(choices=SPLIT_CHOICES, required=False)
    style = forms.ChoiceField(choices=STYLE_CHOICES, initial="conversational")
    include_pending = forms.BooleanField(required=False, help_text="Also export demonstrations not yet reviewed.")

    def filters(self) -> SftFilters:
        data = self.cleaned_data
        return SftFilters(split=data["split"] or None, style=data["style"], include_pending=data["include_pending"])


class RejectDemonstrationsForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Shown to the annotators: say what to do differently.",
    )
