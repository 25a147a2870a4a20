"""Prompts (single text or a conversation) and candidate responses."""

from django.db import models

from .projects import Project


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class Prompt(models.Model):
    """A prompt is stored as a message list; ``is_conversation`` remembers whether it came as plain text.

    ``content_hash`` (sha256 of the canonical messages) is unique per project, so the same prompt imported twice is
    merged, never silently doubled. The split is a pure function of ``split_key`` and the project's ratios.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prompts")
    external_id = models.CharField(max_length=255, null=True, blank=True)
    messages = models.JSONField()
    is_conversation = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    split = models.CharField(max_length=16, choices=Split.choices, default=Split.TRAIN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "content_hash"], name="prompt_unique_content"),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="prompt_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def text(self) -> str:
        """The prompt as one string: the user's text, or a transcript for conversations."""
        if not self.is_conversation and len(self.messages) == 1:
            return self.messages[0]["content"]
        return "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in self.messages)


class Response(models.Model):
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=32, default="human", help_text='"human" or "model".')
    model_name = models.CharField(max_length=255, blank=True)
    model_version = models.CharField(
        max_length=255, blank=True, help_text="Reference to a registered model version (training app)."
    )
    generation_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["prompt", "text_hash"], name="response_unique_text")]

    def __str__(self) -> str:
        return self.text[:80]
