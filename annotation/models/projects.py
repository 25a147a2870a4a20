"""Projects and who works in them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    REVIEWER = "reviewer", "Reviewer"
    ENGINEER = "engineer", "Engineer"


def default_criteria() -> list[str]:
    return ["helpfulness", "harmlessness", "honesty"]


def default_task_kinds() -> list[str]:
    return ["comparison", "demonstration"]


def default_split_ratios() -> dict[str, float]:
    return {"train": 0.9, "validation": 0.05, "test": 0.05}


class Project(models.Model):
    name = models.CharField(max_length=200, unique=True)
    guidelines = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    task_kinds = models.JSONField(
        default=default_task_kinds, help_text='Enabled kinds: any of "comparison", "demonstration".'
    )
    responses_per_comparison = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(2), MaxValueValidator(9)]
    )
    overlap = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Judgments wanted per comparison task.",
    )
    demonstration_overlap = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    criteria = models.JSONField(default=default_criteria, blank=True, help_text="Named criteria, e.g. helpfulness.")
    criteria_mode = models.CharField(
        max_length=16,
        choices=[("preference", "Per-criterion preference"), ("rating", "Per-criterion 1-7 rating")],
        default="preference",
    )
    ties_allowed = models.BooleanField(default=True)
    gold_ratio = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of gold tasks.",
    )
    split_ratios = models.JSONField(default=default_split_ratios)
    lease_seconds = models.PositiveIntegerField(null=True, blank=True, help_text="Defaults to the site setting.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        kinds = self.task_kinds or []
        if not kinds or any(k not in ("comparison", "demonstration") for k in kinds):
            raise ValidationError({"task_kinds": 'Choose from "comparison" and "demonstration".'})
        ratios = self.split_ratios or {}
        if set(ratios) - {"train", "validation", "test"} or any(float(v) < 0 for v in ratios.values()):
            raise ValidationError({"split_ratios": "Use keys train/validation/test with non-negative values."})
        if abs(sum(float(v) for v in ratios.values()) - 1.0) > 1e-6:
            raise ValidationError({"split_ratios": "Ratios must sum to 1."})
        if not isinstance(self.criteria, list) or any(not isinstance(c, str) or not c for c in self.criteria):
            raise ValidationError({"criteria": "A list of criterion names."})
        if len(set(self.criteria)) != len(self.criteria):
            raise ValidationError({"criteria": "Criterion names must be unique."})

    @property
    def lease_duration(self) -> int:
        return self.lease_seconds or settings.ANNOTATION_LEASE_SECONDS

    def overlap_for(self, kind: str) -> int:
        return self.overlap if kind == "comparison" else self.demonstration_overlap


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"
