"""Consensus preferences (what export reads) and immutable dataset snapshots."""

from django.conf import settings
from django.db import models

from .projects import Project
from .prompts import Prompt, Response


class PreferencePair(models.Model):
    """Consensus over every judgment of a prompt for one unordered response pair.

    ``chosen``/``rejected`` follow the majority; on a tie in votes (or a majority of tie votes) ``is_tie`` is set
    and export leaves the pair out. Rebuilt for a prompt whenever one of its judgments arrives.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="preference_pairs")
    split = models.CharField(max_length=16)
    chosen = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    rejected = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    votes_chosen = models.PositiveIntegerField(default=0)
    votes_rejected = models.PositiveIntegerField(default=0)
    votes_tie = models.PositiveIntegerField(default=0)
    is_tie = models.BooleanField(default=False)
    margin = models.FloatField(help_text="(chosen - rejected votes) ÷ all votes, in [0, 1].")
    agreement = models.FloatField(help_text="Share of votes that agree with the exported direction.")
    strength = models.FloatField(default=0.0, help_text="Mean strength of winning votes: slight 1, clear 2, strong 3.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "chosen", "rejected"], name="pair_unique"),
        ]
        indexes = [models.Index(fields=["project", "split", "id"], name="pair_export")]

    def __str__(self) -> str:
        return f"{self.chosen_id} > {self.rejected_id} on prompt {self.prompt_id}"


class DatasetSnapshot(models.Model):
    """An immutable export: rows live in a file under ARTIFACTS_ROOT; the manifest holds filters, counts, sha256."""

    class Kind(models.TextChoices):
        PREFERENCES = "preferences", "Preferences"
        SFT = "sft", "SFT"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="snapshots")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    filters = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    path = models.CharField(max_length=500, help_text="Relative to ARTIFACTS_ROOT.")
    size_bytes = models.BigIntegerField()
    manifest = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} snapshot {self.pk} of {self.project} ({self.row_count} rows, {self.sha256[:12]})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.pop("allow_update", False):
            raise ValueError("Dataset snapshots are immutable; freeze a new one instead.")
        super().save(*args, **kwargs)

    @property
    def absolute_path(self):
        return settings.ARTIFACTS_ROOT / self.path
