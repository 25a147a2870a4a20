"""The artifact registry: every output (dataset, tokenizer, token shards, model, adapter, report) with its lineage."""

from django.conf import settings
from django.db import models


class Artifact(models.Model):
    class Kind(models.TextChoices):
        DATASET = "dataset", "Dataset"
        TOKENIZER = "tokenizer", "Tokenizer"
        TOKEN_SHARDS = "token_shards", "Token shards"
        MODEL = "model", "Model"
        ADAPTER = "adapter", "Adapter"
        SNAPSHOT = "snapshot", "Dataset snapshot"
        REPORT = "report", "Report"

    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=500, help_text="Relative to ARTIFACTS_ROOT.")
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, help_text="Over the files in path order (a folder) or the file.")
    file_count = models.PositiveIntegerField(default=1)
    job = models.ForeignKey("training.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="outputs")
    parents = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="children")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["path"], name="artifact_unique_path")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.path}"

    @property
    def absolute_path(self):
        return settings.ARTIFACTS_ROOT / self.path
