from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = "Evaluation"

    def ready(self) -> None:
        # evaluation may import training (never the reverse): it adds its job kind to training's registry.
        from training.runners import KINDS, JobKind

        KINDS.setdefault(
            "evaluate",
            JobKind(
                "evaluate",
                "evaluation.runners.evaluate",
                "EvaluateConfig",
                "gpu",
                "Evaluate a model version: perplexity, reward-model accuracy, BLEU/ROUGE, win rates, benchmarks, "
                "red-teaming.",
            ),
        )
