"""The model page: config, the lineage graph (corpus → tokenizer → shards → base → DPO, with the snapshot's rows),
curves with evaluation points, side-by-side samples from a generate job it launches, and the adapter merge action.

Data is built through the services (artifact_register, job_launch, snapshot_freeze, evaluation services), never by
running models, so the tests stay fast.
"""

import json
import re

import pytest
from django.conf import settings
from django.urls import reverse

from annotation.selectors.export import PreferenceFilters
from annotation.services import snapshot_freeze
from evaluation.services import evaluation_results_record, evaluation_run_start
from evaluation.suites import Metric, SuiteResult
from tests.annotation.factories import ProjectFactory, UserFactory, import_records, judge, member, prompt_records
from training.models import Artifact, Job, JobMetric, JobStatus
from training.runners.base import ArtifactSpec
from training.services import artifact_register, job_launch

pytestmark = pytest.mark.django_db

MODEL_CONFIG = '{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64}'


def folder(relative: str, files: dict[str, str] | None = None):
    path = settings.ARTIFACTS_ROOT / relative
    path.mkdir(parents=True)
    for name, text in (files or {"config.json": MODEL_CONFIG}).items():
        (path / name).write_text(text)
    return path


def metrics(job: Job, name: str, values: list[float]) -> None:
    JobMetric.objects.bulk_create(
        JobMetric(job=job, step=10 * (i + 1), name=name, value=v) for i, v in enumerate(values)
    )


@pytest.fixture
def lineage(db):
    """corpus → tokenizer → token shards → base (pretrain) → DPO (with a preference snapshot)."""
    corpus = artifact_register(spec=ArtifactSpec("dataset", folder("corpus", {"docs.jsonl": "{}\n"}), name="pydocs"))
    tokenizer = artifact_register(
        spec=ArtifactSpec("tokenizer", folder("tok", {"tokenizer.json": "{}"}), name="bpe", parents=[str(corpus.pk)])
    )
    shards = artifact_register(
        spec=ArtifactSpec(
            "token_shards", folder("shards", {"tokens.bin": "x"}), name="shards", parents=[str(tokenizer.pk)]
        )
    )
    pretrain = job_launch(kind="pretrain", config={"input": str(shards.pk)}, name="pretrain tiny")
    base = artifact_register(spec=ArtifactSpec("model", folder("jobs/base/model"), name="base"), job=pretrain)
    metrics(pretrain, "loss", [5.0, 4.0, 3.2])
    metrics(pretrain, "val_perplexity", [90.0, 40.0, 25.0])

    project = ProjectFactory(task_kinds=["comparison"])
    import_records(project, prompt_records(4, k=2))
    annotator = member(project)
    for _ in range(4):
        judge(project, annotator)
    snapshot, _ = snapshot_freeze(project=project, kind="preferences", filters=PreferenceFilters())

    dpo_job = job_launch(kind="dpo", config={"model": str(base.pk), "dataset": f"snapshot:{snapshot.pk}", "beta": 0.2})
    dpo = artifact_register(spec=ArtifactSpec("model", folder("jobs/dpo/model"), name="dpo <b>policy</b>"), job=dpo_job)
    metrics(dpo_job, "loss", [0.69, 0.6, 0.5])
    metrics(dpo_job, "rewards/margins", [0.0, 0.3, 0.7])
    return {
        "corpus": corpus,
        "tokenizer": tokenizer,
        "shards": shards,
        "base": base,
        "dpo": dpo,
        "snapshot": snapshot,
        "snapshot_artifact": Artifact.objects.get(kind="snapshot"),
        "dpo_job": dpo_job,
        "pretrain": pretrain,
    }


def html_of(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    html = resp.content.decode()
    (settings.ARTIFACTS_ROOT.parent / "page.html").write_text(html)
    return html


def json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def node_x(html: str) -> dict[int, int]:
    """The x position of every node box in the lineage SVG, by artifact id."""
    return {
        int(pk): int(x) for pk, x in re.findall(r'data-artifact-id="(\d+)"><title>[^<]*</title><rect x="(\d+)"', html)
    }


def test_model_page_shows_config_lineage_snapshot_and_curves(staff, lineage):
    dpo, base = lineage["dpo"], lineage["base"]
    run = evaluation_run_start(model=dpo, suite="perplexity", config={})
    evaluation_results_record(
        run=run, result=SuiteResult(metrics=[Metric("perplexity", 21.5, n=100, ci_low=20.0, ci_high=23.0)])
    )
    html = html_of(staff.get(reverse("training:model-detail", args=[dpo.pk])))

    # Config: the run's and the model folder's.
    assert "&quot;beta&quot;: 0.2" in html and f"&quot;model&quot;: &quot;{base.pk}&quot;" in html
    assert "config.json" in html and "num_hidden_layers" in html
    # Lineage: every ancestor is a node, oldest on the left; the snapshot links to its rows.
    xs = node_x(html)
    assert set(xs) == {lineage[k].pk for k in ("corpus", "tokenizer", "shards", "base", "dpo", "snapshot_artifact")}
    order = [xs[lineage[k].pk] for k in ("corpus", "tokenizer", "shards", "base", "dpo")]
    assert order == sorted(order) and len(set(order)) == 5
    assert xs[lineage["snapshot_artifact"].pk] < xs[dpo.pk]
    rows_url = reverse("annotation-api:snapshot-download", args=[lineage["snapshot"].pk])
    assert html.count(rows_url) >= 2  # the graph node and the snapshot list
    assert reverse("training:model-detail", args=[base.pk]) in html  # the parent, linked
    # Names are escaped everywhere, the SVG included.
    assert "dpo &lt;b&gt;policy&lt;/b&gt;" in html and "<b>policy</b>" not in html
    # Curves of the producing job and the evaluation point beside them.
    data = json_script(html, "model-chart-data")
    assert set(data["series"]) == {"loss", "rewards/margins"}
    assert data["series"]["loss"]["value"] == [0.69, 0.6, 0.5]
    [point] = data["evals"]
    assert point["value"] == 21.5 and point["ci_low"] == 20.0 and point["step"] == 30 and point["chart"] is None
    assert "/jobs/static/plotly.min.js?v=" in html and "static/training/model.js" in html
    # The evaluations table links to the run page, and the compare-with-parent page is offered.
    assert reverse("evaluation:run-detail", args=[run.pk]) in html
    assert f"{reverse('evaluation:compare')}?a={dpo.pk}&amp;b={base.pk}" in html


def test_base_model_page_overlays_evaluations_on_the_matching_curve(staff, lineage):
    base, dpo = lineage["base"], lineage["dpo"]
    run = evaluation_run_start(model=base, suite="perplexity", config={})
    evaluation_results_record(run=run, result=SuiteResult(metrics=[Metric("perplexity", 24.0, n=50)]))
    html = html_of(staff.get(reverse("training:model-detail", args=[base.pk])))
    xs = node_x(html)
    assert xs[lineage["corpus"].pk] < xs[lineage["tokenizer"].pk] < xs[lineage["shards"].pk] < xs[base.pk]
    assert xs[dpo.pk] > xs[base.pk]  # derived models get a last column
    assert f'class="lineage-node derived" data-artifact-id="{dpo.pk}"' in html
    data = json_script(html, "model-chart-data")
    assert [p["chart"] for p in data["evals"]] == ["val_perplexity"]  # drawn on the validation curve
    assert "imported" not in html and "pretrain" in html


def test_generate_form_launches_one_job_and_shows_the_samples_side_by_side(staff, engineer, lineage):
    dpo, base = lineage["dpo"], lineage["base"]
    page = reverse("training:model-detail", args=[dpo.pk])
    html = html_of(staff.get(page))
    assert "Explain what a Python context manager is." in html  # default prompts, editable
    resp = staff.post(
        reverse("training:model-samples", args=[dpo.pk]),
        {"prompts": "First prompt\n\n   Second <prompt>  \n", "temperature": "0", "max_new_tokens": "16"},
    )
    assert resp.status_code == 302 and resp["Location"] == page + "#samples"
    job = Job.objects.get(kind="generate")
    assert job.config["models"] == [str(dpo.pk), str(base.pk)]
    assert job.config["prompts"] == ["First prompt", "Second <prompt>"]
    assert job.config["samples_per_prompt"] == 1 and job.config["temperature"] == 0
    assert job.config["max_new_tokens"] == 16 and job.created_by == engineer
    assert set(job.inputs.values_list("pk", flat=True)) == {dpo.pk, base.pk}

    html = html_of(staff.get(page))
    assert reverse("training:job-detail", args=[job.pk]) in html and 'id="samples-job-status">queued<' in html
    assert json_script(html, "model-samples-config") == {
        "job": job.pk,
        "finished": False,
        "api": reverse("training-api:job-detail", args=[job.pk]),
    }
    assert "First prompt\nSecond &lt;prompt&gt;</textarea>" in html  # the form keeps the last prompts

    rows = [
        {
            "prompt_id": i,
            "model_version": f"artifact:{m.pk}",
            "model_name": "model",
            "text": text,
            "generation_params": {},
        }
        for i in range(2)
        for m, text in ((dpo, f"policy answer {i}"), (base, f"<script>alert({i})</script>"))
    ]
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED, result={"reports": {"generation_samples": rows}})
    html = html_of(staff.get(page))
    table = html[html.index('id="samples-table"') :]
    assert table.index("policy answer 0") < table.index("&lt;script&gt;alert(0)&lt;/script&gt;")
    assert table.index("&lt;script&gt;alert(0)") < table.index("policy answer 1")  # one row per prompt
    assert "<script>alert(" not in html
    assert json_script(html, "model-samples-config")["finished"] is True


@pytest.mark.parametrize(
    ("prompts", "message"),
    [("  \n \n", "Write at least one prompt."), ("\n".join(f"p{i}" for i in range(9)), "At most 8 prompts")],
)
def test_generate_form_rejects_bad_prompts(staff, lineage, prompts, message):
    dpo = lineage["dpo"]
    resp = staff.post(
        reverse("training:model-samples", args=[dpo.pk]),
        {"prompts": prompts, "temperature": "0.7", "max_new_tokens": "8"},
    )
    assert resp.status_code == 400 and message in resp.content.decode()
    assert not Job.objects.filter(kind="generate").exists()
    resp = staff.post(
        reverse("training:model-samples", args=[dpo.pk]), {"prompts": "ok", "temperature": "9", "max_new_tokens": "8"}
    )
    assert resp.status_code == 400 and not Job.objects.filter(kind="generate").exists()


def test_pages_need_staff(client, lineage):
    dpo = lineage["dpo"]
    urls = [reverse("training:model-list"), reverse("training:model-detail", args=[dpo.pk])]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/")
    client.force_login(UserFactory())
    for url in urls:
        assert client.get(url).status_code == 403
    resp = client.post(reverse("training:model-samples", args=[dpo.pk]), {"prompts": "hi"})
    assert resp.status_code == 403 and not Job.objects.filter(kind="generate").exists()


def test_only_models_and_adapters_have_a_model_page(staff, lineage):
    assert staff.get(reverse("training:model-detail", args=[lineage["corpus"].pk])).status_code == 404
    assert staff.get(reverse("training:model-detail", args=[999999])).status_code == 404


def test_model_list(staff, lineage):
    html = html_of(staff.get(reverse("training:model-list")))
    dpo, base = lineage["dpo"], lineage["base"]
    assert f'data-model-id="{dpo.pk}"' in html and f'data-model-id="{base.pk}"' in html
    assert f'data-model-id="{lineage["corpus"].pk}"' not in html
    assert reverse("training:model-detail", args=[base.pk]) in html and "dpo &lt;b&gt;" in html
    html = html_of(staff.get(reverse("training:model-list"), {"q": "dpo"}))
    assert f'data-model-id="{dpo.pk}"' in html and f'data-model-id="{base.pk}"' not in html


def test_nav_links_for_staff(staff):
    html = html_of(staff.get(reverse("annotation:home")))
    assert reverse("training:model-list") in html and reverse("evaluation:leaderboard") in html


# --- adapters: the page and the admin's "merge and export" -------------------------------------------------------


@pytest.fixture
def adapter(lineage):
    path = folder("jobs/lora/adapter", {"adapter_config.json": '{"peft_type": "LORA", "r": 8}'})
    return artifact_register(
        spec=ArtifactSpec(
            "adapter", path, name="lora", parents=[str(lineage["base"].pk), f"snapshot:{lineage['snapshot'].pk}"]
        )
    )


def test_adapter_page(staff, adapter, lineage):
    html = html_of(staff.get(reverse("training:model-detail", args=[adapter.pk])))
    assert "adapter_config.json" in html and "LORA" in html
    assert "Merge and export (admin)" in html
    assert reverse("training:model-detail", args=[lineage["base"].pk]) in html


def test_merge_and_export_admin_action_launches_merge_jobs(staff, engineer, adapter, lineage):
    resp = staff.post(
        "/admin/training/artifact/",
        {"action": "merge_and_export", "_selected_action": [adapter.pk, lineage["base"].pk]},
        follow=True,
    )
    html = html_of(resp)
    job = Job.objects.get(kind="merge_adapter")
    assert job.config == {"adapter": str(adapter.pk)} and job.created_by == engineer
    assert list(job.inputs.all()) == [adapter]
    assert reverse("training:job-detail", args=[job.pk]) in html and f"merge_adapter #{job.pk}" in html
    assert f"#{lineage['base'].pk} is a model, not an adapter: skipped." in html
    assert Job.objects.filter(kind="merge_adapter").count() == 1


def test_samples_from_a_real_generate_run_appear_side_by_side(staff, tiny_lm_dir):
    """The form's job runs the real generate runner on a tiny model and its parent; the page shows both columns."""
    import shutil

    from training.services import job_execute

    parent_path = settings.ARTIFACTS_ROOT / "jobs" / "000001-pretrain" / "model"
    shutil.copytree(tiny_lm_dir, parent_path)
    parent = artifact_register(spec=ArtifactSpec("model", parent_path, name="tiny base"))
    child_path = settings.ARTIFACTS_ROOT / "jobs" / "000002-sft" / "model"
    shutil.copytree(tiny_lm_dir, child_path)
    child = artifact_register(spec=ArtifactSpec("model", child_path, name="tiny sft", parents=[str(parent.pk)]))

    resp = staff.post(
        reverse("training:model-samples", args=[child.pk]),
        {"prompts": "Explain item one.\nExplain item two.", "temperature": "0", "max_new_tokens": "6"},
    )
    assert resp.status_code == 302
    job = Job.objects.get(kind="generate")
    assert job_execute(job_id=job.pk) == "succeeded", job.error_message
    html = html_of(staff.get(reverse("training:model-detail", args=[child.pk])))
    table = html[html.index('id="samples-table"') :].split("</table>")[0]
    assert table.count('<th scope="row" class="sample-prompt">') == 2
    assert table.count('class="report-text sample-text"') == 4  # two prompts x (this model, parent)
    assert f"#{child.pk} tiny sft" in table and f"#{parent.pk} tiny base" in table
