"""A cancelled TRL-based run keeps its checkpoint and the retried run continues from it."""

import pytest

from training.configs import from_dict
from training.runners.base import JobCancelled
from training.runners.cli import LocalContext
from training.runners.dpo import DpoConfig
from training.runners.dpo import run as run_dpo

pytestmark = pytest.mark.django_db


class CancelAt(LocalContext):
    def __init__(self, *args, step: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.cancel_step = step

    def metrics(self, step, values):
        super().metrics(step, values)
        if step >= self.cancel_step:
            self.cancel_event.set()


def test_cancelled_dpo_resumes_from_its_checkpoint(snapshots, base_model, tmp_path):
    config = from_dict(
        DpoConfig,
        {
            "model": str(base_model.absolute_path),
            "dataset": str(snapshots["preferences"].absolute_path),
            "max_steps": 4,
            "save_steps": 2,
            "per_device_batch_size": 4,
            "max_length": 64,
        },
    )
    first = CancelAt(tmp_path / "run", show_progress=False, step=2)
    with pytest.raises(JobCancelled):
        run_dpo(config, first)
    # The cancel is noticed at the next step's end, and that step is saved before stopping.
    assert (tmp_path / "run" / "trainer" / "checkpoint-3").exists()
    second = LocalContext(tmp_path / "run", show_progress=False, attempt=2)
    result = run_dpo(config, second)
    assert result.summary["steps"] == 4
    assert "resuming from checkpoint-3" in (tmp_path / "run" / "run.log").read_text()
    assert {step for step, name, _ in second.metric_points if name == "loss"} == {4}
