"""What annotators produce: leases (assignments), comparison judgments and demonstrations."""

from django.conf import settings
from django.db import models

from .tasks import Task


class Assignment(models.Model):
    """One annotator's lease on one task; unique per (task, annotator), so nobody is served a task twice."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        EXPIRED = "expired", "Expired"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    project_id_cache = models.BigIntegerField(db_index=False, help_text="Denormalized project id for fast lookups.")
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_gold = models.BooleanField(default=False)
    display_order = models.JSONField(default=list, help_text="Response ids in the order the annotator saw them.")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "annotator"], name="assignment_unique"),
        ]
        indexes = [
            models.Index(fields=["annotator", "project_id_cache", "kind", "status"], name="assignment_active"),
            models.Index(fields=["status", "expires_at"], name="assignment_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.annotator} on task {self.task_id} ({self.status})"


class Strength(models.TextChoices):
    SLIGHT = "slight", "Slightly better"
    CLEAR = "clear", "Clearly better"
    STRONG = "strong", "Much better"


class Judgment(models.Model):
    """A comparison: a ranking of response ids, best first, where a nested list groups ties.

    A pairwise choice is the ranking of two; per-criterion preferences or 1-7 ratings sit in ``criteria``.
    """

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="judgments")
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="judgment")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judgments")
    ranking = models.JSONField(help_text="[[best...], [next...], ...]: groups of tied response ids.")
    strength = models.CharField(max_length=8, choices=Strength.choices, blank=True)
    criteria = models.JSONField(default=dict, blank=True)
    rationale = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    time_spent_ms = models.PositiveIntegerField(null=True, blank=True)
    display_order = models.JSONField(default=list)
    is_gold = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="judgment_idempotency",
            ),
        ]

    def __str__(self) -> str:
        return f"judgment {self.pk} on task {self.task_id}"


class Demonstration(models.Model):
    class Review(models.TextChoices):
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="demonstrations")
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="demonstration")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="demonstrations")
    text = models.TextField()
    source_response = models.ForeignKey(
        "annotation.Response", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    original_text = models.TextField(blank=True, help_text="The model response as it was before editing.")
    time_spent_ms = models.PositiveIntegerField(null=True, blank=True)
    review_status = models.CharField(max_length=10, choices=Review.choices, default=Review.PENDING)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_comment = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotator", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="demonstration_idempotency",
            ),
        ]
        indexes = [models.Index(fields=["review_status", "id"], name="demonstration_review")]

    def __str__(self) -> str:
        return f"demonstration {self.pk} on task {self.task_id}"
