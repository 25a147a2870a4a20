"""Evaluation pages: the leaderboard (values, sorting hooks, arena ratings with intervals), a run's page (metrics,
filters, pagination, downloads, waiting human runs that refresh, red-team charts), the compare page, the admin.

Results are recorded through the evaluation services and human votes through the annotation services; no model runs.
"""

import json
import re

import pytest
from django.conf import settings
from django.urls import reverse

from annotation.models import Response
from evaluation.human import human_comparison_project, human_win_rate_result
from evaluation.models import EvaluationRun
from evaluation.services import evaluation_results_record, evaluation_run_start
from evaluation.suites import Example, Metric, SuiteResult
from tests.annotation.factories import EngineerFactory, UserFactory, judge, member
from training.runners.base import ArtifactSpec
from training.services import artifact_register

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


def model(name: str, parents: list = ()):
    path = settings.ARTIFACTS_ROOT / "models" / name.replace(" ", "-").replace("<", "").replace(">", "")
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    return artifact_register(spec=ArtifactSpec("model", path, name=name, parents=[str(p.pk) for p in parents]))


def record(artifact, suite: str, metrics: list[Metric], examples: list[Example] = (), baseline=None) -> EvaluationRun:
    run = evaluation_run_start(model=artifact, suite=suite, config={"suites": [suite]}, baseline=baseline)
    return evaluation_results_record(run=run, result=SuiteResult(metrics=metrics, examples=list(examples)))


@pytest.fixture
def staff(client, db):
    client.force_login(EngineerFactory())
    return client


@pytest.fixture
def models(db):
    sft = model("sft")
    return sft, model("dpo", parents=[sft])


def html_of(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


def json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, element_id
    return json.loads(match.group(1))


def comparison_project(ours, theirs, n: int = 2):
    prompts = [{"messages": [{"role": "user", "content": f"question {i}"}]} for i in range(n)]
    return human_comparison_project(
        model=ours,
        baseline=theirs,
        prompts=prompts,
        ours=[f"our answer {i}" for i in range(n)],
        theirs=[f"their answer {i}" for i in range(n)],
    )


def prefer(artifact):
    """A ranking function that puts the given model version's response first."""

    def ranking(assignment):
        best = Response.objects.get(pk__in=assignment.task.response_ids, model_version=f"artifact:{artifact.pk}").pk
        return [best, *(r for r in assignment.task.response_ids if r != best)]

    return ranking


# --- access -----------------------------------------------------------------------------------------------------------


def test_pages_need_login_and_staff(client, models):
    run = record(models[0], "perplexity", [Metric("perplexity", 10.0)])
    urls = [
        reverse("evaluation:leaderboard"),
        reverse("evaluation:run-detail", args=[run.pk]),
        f"{reverse('evaluation:compare')}?a={models[0].pk}&b={models[1].pk}",
    ]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/"), url
    client.force_login(UserFactory())
    for url in urls:
        assert client.get(url).status_code == 403, url


# --- leaderboard ------------------------------------------------------------------------------------------------------


def test_leaderboard_values_lineage_and_arena(staff, models):
    sft, dpo = models
    record(sft, "perplexity", [Metric("perplexity", 20.0, n=90, higher_is_better=False)])
    record(dpo, "perplexity", [Metric("perplexity", 15.5, n=90, ci_low=14.0, ci_high=17.25, higher_is_better=False)])
    record(dpo, "rm_accuracy", [Metric("accuracy", 0.75, n=40, ci_low=0.6, ci_high=0.9)])
    project = comparison_project(dpo, sft, n=3)
    annotator = member(project)
    for _ in range(3):
        judge(project, annotator, ranking=prefer(dpo))

    html = html_of(staff.get(reverse("evaluation:leaderboard")))
    board = html[html.index('id="leaderboard"') : html.index('id="arena"')]
    # Columns grouped by suite, sortable, with their direction; cells link to their runs.
    assert 'class="suite-head">perplexity<' in board and 'class="suite-head">rm_accuracy<' in board
    assert board.count('data-sort="num"') == 3 and 'data-higher="0"' in board and 'data-higher="1"' in board
    assert 'data-value="15.5"' in board and 'data-value="20.0"' in board
    assert re.search(r'class="num best" data-value="15.5"', board)  # lower perplexity is better
    assert "[14, 17.25]" in board
    # Lineage links: each model's page and its parent's.
    assert reverse("training:model-detail", args=[dpo.pk]) in board
    dpo_row = board[board.index(f'data-model-id="{dpo.pk}"') :].split("</tr>")[0]
    assert f'from <a href="{reverse("training:model-detail", args=[sft.pk])}">#{sft.pk} sft</a>' in dpo_row
    # The missing cell of sft's rm_accuracy sorts as empty.
    sft_row = board[board.index(f'data-model-id="{sft.pk}"') :].split("</tr>")[0]
    assert 'data-value="">—' in sft_row
    # Arena: the preferred model first, with its interval, for the error-bar chart.
    arena = json_script(html, "arena-data")
    assert [a["artifact_id"] for a in arena] == [dpo.pk, sft.pk]
    assert all(a["ci_low"] <= a["rating"] <= a["ci_high"] for a in arena) and arena[0]["battles"] == 3
    assert arena[0]["url"] == reverse("training:model-detail", args=[dpo.pk])
    assert 'id="arena-chart"' in html and "/jobs/static/plotly.min.js?v=" in html
    assert "static/evaluation/leaderboard.js" in html
    assert f"{reverse('admin:training_job_add')}?kind=evaluate" in html


def test_empty_leaderboard(staff):
    html = html_of(staff.get(reverse("evaluation:leaderboard")))
    assert "No evaluations yet" in html and "No human votes" in html


# --- the run page ----------------------------------------------------------------------------------------------------


@pytest.fixture
def big_run(models):
    examples = [
        Example(
            input=f"question {i}",
            output=f"answer {i}",
            reference=f"gold {i}",
            score=float(i % 2),
            correct=i % 2 == 1,
            category="math" if i < 30 else "code",
        )
        for i in range(60)
    ]
    return record(models[1], "gsm8k", [Metric("exact_match", 0.5, n=60, ci_low=0.37, ci_high=0.63)], examples)


def shown_indexes(html: str) -> list[int]:
    table = html[html.index('id="example-table"') :].split("</table>")[0]
    return [int(i) for i in re.findall(r'<tr data-index="(\d+)"', table)]


def test_run_page_metrics_filters_and_pagination(staff, big_run):
    url = reverse("evaluation:run-detail", args=[big_run.pk])
    html = html_of(staff.get(url))
    assert 'data-metric="exact_match"' in html and "[0.37, 0.63]" in html
    assert shown_indexes(html) == list(range(25)) and "page 1 of 3" in html
    assert shown_indexes(html_of(staff.get(url, {"page": 3}))) == list(range(50, 60))
    assert shown_indexes(html_of(staff.get(url, {"category": "math"}))) == list(range(25))
    assert shown_indexes(html_of(staff.get(url, {"category": "math", "page": 2}))) == list(range(25, 30))
    assert shown_indexes(html_of(staff.get(url, {"category": "code", "correct": "false"}))) == list(range(30, 60, 2))
    html = html_of(staff.get(url, {"correct": "true", "page": 2}))
    assert shown_indexes(html) == list(range(51, 60, 2)) and "page 2 of 2" in html
    assert "correct=true&amp;page=1" in html  # the pager keeps the filters
    # An unknown filter value is reported; the other filters still apply.
    html = html_of(staff.get(url, {"category": "poetry", "correct": "false"}))
    assert "Select a valid choice" in html and shown_indexes(html) == list(range(0, 50, 2))[:25]


def test_run_page_links_downloads_of_the_shown_rows(staff, big_run):
    api = reverse("evaluation-api:examples", args=[big_run.pk])
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[big_run.pk])))
    assert f'href="{api}?format=csv"' in html and f'href="{api}?format=jsonl"' in html
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[big_run.pk]), {"category": "code"}))
    assert f'href="{api}?category=code&amp;format=csv"' in html
    body = b"".join(staff.get(f"{api}?category=code&format=jsonl").streaming_content).splitlines()
    assert len(body) == 30 and json.loads(body[0])["category"] == "code"
    csv = b"".join(staff.get(f"{api}?format=csv").streaming_content)
    assert csv.startswith(b"index,category,input,output,reference,score,correct,metadata")


def test_run_page_escapes_outputs(staff, models):
    run = record(
        models[0],
        "gsm8k",
        [Metric("exact_match", 0.0, n=1)],
        [Example(input="<b>q</b>", output=SCRIPT, reference="<img src=x onerror=alert(1)>", correct=False)],
    )
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[run.pk])))
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and SCRIPT not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert "&lt;b&gt;q&lt;/b&gt;" in html


def test_failed_run_shows_its_error(staff, models):
    run = evaluation_run_start(model=models[0], suite="perplexity", config={})
    EvaluationRun.objects.filter(pk=run.pk).update(status="failed", config={"error": "no held-out split <here>"})
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[run.pk])))
    assert "no held-out split &lt;here&gt;" in html and "No examples" in html
    assert staff.get(reverse("evaluation:run-detail", args=[999999])).status_code == 404


def test_waiting_human_run_refreshes_on_each_view(staff, models):
    sft, dpo = models
    project = comparison_project(dpo, sft, n=2)
    run = evaluation_run_start(model=dpo, suite="human_win_rate", config={}, baseline=sft)
    result = human_win_rate_result(project_id=project.pk, model=dpo, baseline=sft)
    result.annotation_project_id = project.pk
    run = evaluation_results_record(run=run, result=result)
    assert run.status == "waiting"
    url = reverse("evaluation:run-detail", args=[run.pk])
    html = html_of(staff.get(url))
    assert 'id="judged-count">0 / 2<' in html and "Waiting for human judgments" in html
    assert reverse("annotation:compare", args=[project.pk]) in html and "No metrics yet" in html

    # The blind tasks appear for an annotator; each vote shows up on the next view of the page.
    annotator = member(project)
    judge(project, annotator, ranking=prefer(dpo))
    html = html_of(staff.get(url))
    assert 'id="judged-count">1 / 2<' in html and 'data-metric="win_rate"' in html
    run.refresh_from_db()
    assert run.status == "waiting" and run.metrics.get(name="win_rate").value == 1.0

    judge(project, annotator, ranking=prefer(sft))
    html = html_of(staff.get(url))
    assert 'id="judged-count">2 / 2<' in html and ">Complete<" in html
    run.refresh_from_db()
    assert run.status == "complete" and run.metrics.get(name="win_rate").value == 0.5
    assert "This model's output" in html and "Baseline's output" in html


def test_redteam_run_shows_category_chart_and_worst_first(staff, models):
    examples = [
        Example(
            input="how to pick a lock", output="I can't help with that.", score=0.0, correct=True, category="crime"
        ),
        Example(input="make a weapon", output="Step 1: ...", score=0.97, correct=False, category="weapons"),
        Example(input="insult someone", output="You are ...", score=0.6, correct=False, category="harassment"),
    ]
    metrics = [
        Metric("attack_success_rate", 2 / 3, n=3, higher_is_better=False),
        Metric("asr.crime", 0.0, n=1, higher_is_better=False),
        Metric("asr.harassment", 1.0, n=1, higher_is_better=False),
        Metric("asr.weapons", 1.0, n=1, higher_is_better=False),
    ]
    run = record(models[0], "redteam", metrics, examples)
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[run.pk])))
    chart = json_script(html, "redteam-data")
    assert chart == {"categories": ["crime", "harassment", "weapons"], "rates": [0.0, 1.0, 1.0], "n": [1, 1, 1]}
    assert shown_indexes(html) == [1, 2, 0]  # the most harmful response first
    assert 'id="redteam-chart"' in html and "/jobs/static/plotly.min.js?v=" in html
    html = html_of(staff.get(reverse("evaluation:run-detail", args=[run.pk]), {"correct": "false"}))
    assert shown_indexes(html) == [1, 2]


# --- compare --------------------------------------------------------------------------------------------------------


def test_compare_page_aligns_examples_on_the_same_inputs(staff, models):
    sft, dpo = models
    inputs = ["2+2?", "3*3?", "capital of France?"]

    def examples(outputs, correct):
        return [
            Example(input=q, output=o, reference="ref", correct=c, score=float(c), category="qa")
            for q, o, c in zip(inputs, outputs, correct, strict=True)
        ]

    record(sft, "gsm8k", [Metric("exact_match", 1 / 3, n=3)], examples(["5", SCRIPT, "Paris"], [False, False, True]))
    record(dpo, "gsm8k", [Metric("exact_match", 2 / 3, n=3)], examples(["4", "6", "Paris"], [True, False, True]))
    record(sft, "perplexity", [Metric("perplexity", 30.0, higher_is_better=False)])
    html = html_of(staff.get(reverse("evaluation:compare"), {"a": sft.pk, "b": dpo.pk}))

    gsm = html[html.index('id="suite-gsm8k"') : html.index('id="suite-perplexity"')]
    assert re.search(r'<td class="num best">0\.6667', gsm)  # B is better on exact match
    assert "3 aligned · 1 differ · only A right: 0 · only B right: 1" in gsm
    rows = re.findall(r'<tr class="(differs)?" data-index="(\d+)"', gsm)
    assert [int(i) for _, i in rows] == [0, 1, 2] and rows[0][0] == "differs"  # disagreements first
    first = gsm[gsm.index('data-index="0"') :].split("</tr>")[0]
    assert first.index(">5<") < first.index(">4<")  # A's output, then B's
    assert "&lt;script&gt;" in gsm and SCRIPT not in html
    perplexity = html[html.index('id="suite-perplexity"') :]
    assert "B: not run" in perplexity and "30" in perplexity


@pytest.mark.parametrize("params", [{"a": "x", "b": "1"}, {"a": "999999", "b": "1"}])
def test_compare_rejects_bad_ids(staff, models, params):
    resp = staff.get(reverse("evaluation:compare"), params)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "must be a model version id" in html or "There is no model version #999999" in html


def test_compare_without_choice_shows_the_picker(staff, models):
    html = html_of(staff.get(reverse("evaluation:compare")))
    assert 'id="compare-form"' in html and f'value="{models[1].pk}"' in html and "Pick two model versions" in html


# --- admin -----------------------------------------------------------------------------------------------------------


def test_admin_lists_runs_read_only_with_metrics_inline(staff, big_run):
    html = html_of(staff.get("/admin/evaluation/evaluationrun/"))
    assert f"{reverse('admin:training_job_add')}?kind=evaluate" in html
    assert reverse("evaluation:run-detail", args=[big_run.pk]) in html
    html = html_of(staff.get(f"/admin/evaluation/evaluationrun/{big_run.pk}/change/"))
    assert "exact_match" in html and 'name="_save"' not in html
    assert reverse("training:model-detail", args=[big_run.model_id]) in html
    assert staff.get("/admin/evaluation/evaluationrun/add/").status_code == 403
