"""Win rate judged by humans: blind side-by-side comparison tasks in an annotation project.

The run generates both models' answers, puts them into a comparison project (randomized sides per annotator, no model
names shown) and stays open; ``human_win_rate_refresh`` fills the metrics in as judgments arrive.
"""

from . import SuiteResult, SuiteSpec
from .prompts import heldout_prompts
from .win_rate import generate_pair


def run(spec: SuiteSpec) -> SuiteResult:
    from training.models import Artifact

    from ..human import human_comparison_project, human_win_rate_result

    prompts = heldout_prompts(spec)
    ours, theirs = generate_pair(spec, prompts)
    model = Artifact.objects.get(pk=int(spec.config.model))
    baseline = Artifact.objects.get(pk=int(spec.config.baseline))
    project = human_comparison_project(
        model=model, baseline=baseline, prompts=prompts, ours=ours, theirs=theirs, project_id=spec.config.human_project
    )
    spec.ctx.log(f"created blind comparison tasks in annotation project {project.pk} ({project.name})")
    result = human_win_rate_result(project_id=project.pk, model=model, baseline=baseline)
    result.annotation_project_id = project.pk
    return result
