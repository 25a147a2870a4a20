"""Running the suites of an ``evaluate`` job (called by the runner inside a worker)."""

from dataclasses import asdict
from pathlib import Path

from training.models import Job
from training.runners.base import RunResult
from training.services.artifacts import artifact_resolve

from .services import evaluation_results_record, evaluation_run_fail, evaluation_run_start
from .suites import SuiteSpec, load_suite

INPUT_FIELDS = {
    "baseline": "model|adapter",
    "reward_model": "model",
    "preferences": "snapshot:preferences",
    "demonstrations": "snapshot:sft",
    "token_shards": "token_shards",
}


def run_suites(config, ctx) -> RunResult:
    model = artifact_resolve(config.model, "model|adapter")
    inputs = {
        name: Path(ctx.resolve_input(getattr(config, name), kind))
        for name, kind in INPUT_FIELDS.items()
        if getattr(config, name)
    }
    baseline = artifact_resolve(config.baseline, "model|adapter") if config.baseline else None
    job = Job.objects.filter(pk=getattr(ctx, "job_id", None)).first()
    shared = None
    failures, summary = [], {}
    for i, name in enumerate(config.suites):
        ctx.check_cancelled()
        ctx.progress(i, len(config.suites), f"suite {name}")
        run = evaluation_run_start(model=model, suite=name, config=asdict(config), job=job, baseline=baseline)
        spec = SuiteSpec(name, config, ctx, model.absolute_path, inputs, run.pk, _model=shared)
        try:
            result = load_suite(name).run(spec)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            evaluation_run_fail(run=run, message=message)
            ctx.log(f"suite {name} failed: {message}")
            failures.append(f"{name}: {message}")
            continue
        finally:
            shared = spec._model
        evaluation_results_record(run=run, result=result)
        summary[name] = {m.name: m.value for m in result.metrics}
        ctx.metrics(i + 1, {f"{name}.{m.name}": m.value for m in result.metrics})
        ctx.log(f"suite {name}: " + ", ".join(f"{m.name}={m.value:.4g}" for m in result.metrics))
    ctx.progress(len(config.suites), len(config.suites), "done")
    if failures:
        raise RuntimeError("; ".join(failures))
    return RunResult(summary=summary)
