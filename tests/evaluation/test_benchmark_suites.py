"""Benchmark suites on the tiny model through the evaluate job, their data checks, and the scoring primitive.

The suites read the fixtures in evaluation/data/fixtures (invented items in each benchmark's original schema) unless
a test points them elsewhere. Numbers of an untrained model are meaningless; what is checked is that every suite
records complete, consistent results (metrics agree with the per-example rows) and that bad data fails clearly.
"""

import json
import shutil

import pytest
from django.conf import settings

from evaluation.benchmarks.loading import fixture_path, load_benchmark, parse_hub_name, read_file
from evaluation.benchmarks.schemas import BenchmarkDataError
from evaluation.models import EvaluationRun, MetricValue
from tests.evaluation.test_evaluate_job import Job_error
from training.runners.base import ArtifactSpec
from training.services import artifact_register, job_execute, job_launch

pytestmark = pytest.mark.django_db


def evaluate(model, **config):
    job = job_launch(kind="evaluate", config={"model": str(model.pk), "batch_size": 8, **config})
    outcome = job_execute(job_id=job.pk)
    return job, outcome


def metrics_of(suite: str) -> dict[str, MetricValue]:
    run = EvaluationRun.objects.get(suite=suite)
    assert run.status == "complete", run.config.get("error")
    return {m.name: m for m in run.metrics.all()}


# --- suites through the job ---------------------------------------------------------------------------------------


def test_benchmark_suites_in_one_job(base_model):
    """Every benchmark suite in one evaluate job (as a user would run them), sharing one loaded model."""
    job, outcome = evaluate(
        base_model,
        suites=["mmlu", "hellaswag", "truthfulqa", "gsm8k", "math", "humaneval", "mbpp"],
        limit=4,
        lm_eval=False,
        max_new_tokens=8,
        samples_per_problem=2,
        pass_k=[1, 2],
        sandbox_timeout_seconds=5,
    )
    assert outcome == "succeeded", Job_error(job)
    check_multiple_choice()
    check_generation()
    check_code()


def check_multiple_choice():
    for suite, names in (
        ("mmlu", {"acc", "acc_norm"}),
        ("hellaswag", {"acc", "acc_norm"}),
        ("truthfulqa", {"mc1", "mc2"}),
    ):
        metrics = metrics_of(suite)
        assert set(metrics) == names
        run = EvaluationRun.objects.get(suite=suite)
        examples = list(run.examples.all())
        assert len(examples) == 4
        for m in metrics.values():
            assert 0 <= m.ci_low <= m.value <= m.ci_high <= 1 and m.n == 4
            assert m.metadata["data"]["kind"] == "fixture" and "not the real benchmark" in m.metadata["data"]["note"]
        if suite != "truthfulqa":
            assert metrics["acc"].value == pytest.approx(sum(e.correct for e in examples) / 4)
        else:
            assert metrics["mc2"].value == pytest.approx(sum(e.score for e in examples) / 4)
    mmlu = EvaluationRun.objects.get(suite="mmlu").examples.first()
    assert mmlu.category == "elementary_mathematics" and mmlu.reference == "B. 12"
    assert mmlu.input.startswith("The following are multiple choice questions (with answers) about elementary math")
    assert mmlu.input.endswith("\nD. 9\nAnswer:") and len(mmlu.metadata["loglikelihoods"]) == 4
    hella = EvaluationRun.objects.get(suite="hellaswag").examples.all()[3]
    assert "[" not in hella.input and hella.input.startswith("Home and Garden: ")  # WikiHow markup cleaned
    assert metrics_of("mmlu")["acc"].metadata["by_category"]["elementary_mathematics"]["n"] == 1


def test_lm_eval_agrees_with_our_scoring(base_model):
    pytest.importorskip("lm_eval", reason="needs the eval extra (pip install -e .[eval])")
    job, outcome = evaluate(base_model, suites=["mmlu", "lm_eval_check"], limit=3, lm_eval=True)
    assert outcome == "succeeded", Job_error(job)
    mmlu = metrics_of("mmlu")
    assert mmlu["lm_eval_acc"].value == pytest.approx(mmlu["acc"].value)
    assert mmlu["lm_eval_acc_norm"].value == pytest.approx(mmlu["acc_norm"].value)
    assert mmlu["lm_eval_acc"].metadata["agree"] is True and mmlu["lm_eval_acc"].metadata["prompts_match"] is True
    assert mmlu["lm_eval_ll_diff"].value < 1e-3
    check = metrics_of("lm_eval_check")
    assert check["agreement"].value == 1.0
    for task, names in (
        ("mmlu", ("acc", "acc_norm")),
        ("hellaswag", ("acc", "acc_norm")),
        ("truthfulqa_mc1", ("mc1",)),
        ("truthfulqa_mc2", ("mc2",)),
    ):
        for name in names:
            ours, theirs = check[f"{task}_{name}"].value, check[f"{task}_lm_eval_{name}"].value
            assert abs(ours - theirs) < 1e-6, (task, name, ours, theirs)
        diff = next(m for k, m in check.items() if k.startswith(task) and k.endswith("ll_diff"))
        assert diff.value < 1e-3 and diff.metadata["prompts_match"] is True
    assert EvaluationRun.objects.get(suite="lm_eval_check").examples.filter(correct=True).count() == 4


def check_generation():
    gsm = metrics_of("gsm8k")
    assert set(gsm) == {"exact_match", "exact_match_strict"}
    assert gsm["exact_match_strict"].value <= gsm["exact_match"].value
    assert gsm["exact_match"].metadata["generation"]["max_new_tokens"] == 8
    examples = list(EvaluationRun.objects.get(suite="gsm8k").examples.all())
    assert [e.reference for e in examples] == ["19", "24", "24", "16"]
    assert gsm["exact_match"].value == pytest.approx(sum(e.correct for e in examples) / 4)
    assert all("\x00" not in e.output for e in examples)
    math_run = EvaluationRun.objects.get(suite="math")
    categories = ["Algebra", "Prealgebra", "Number Theory", "Counting & Probability"]
    assert [e.category for e in math_run.examples.all()] == categories
    assert [e.reference for e in math_run.examples.all()] == ["14", r"\frac{3}{4}", "2", "6"]
    by_level = metrics_of("math")["exact_match"].metadata["by_level"]
    assert by_level["Level 1"]["n"] == 2 and by_level["Level 2"]["n"] == 2


def check_code():
    for suite in ("humaneval", "mbpp"):
        metrics = metrics_of(suite)
        assert set(metrics) == {"pass@1", "pass@2"}
        assert 0 <= metrics["pass@1"].value <= metrics["pass@2"].value <= 1
        sandbox = metrics["pass@1"].metadata["sandbox"]
        assert sum(sandbox["statuses"].values()) == 8 and sandbox["limits"]["cpu_seconds"] == 5
        assert metrics["pass@1"].metadata["generation"]["temperature"] > 0  # n = 2 samples are sampled
        for example in EvaluationRun.objects.get(suite=suite).examples.all():
            samples = example.metadata["samples"]
            assert len(samples) == 2 and all(s["status"] in {"passed", "failed", "timeout", "error"} for s in samples)
            assert example.score == sum(s["status"] == "passed" for s in samples) / 2
    assert EvaluationRun.objects.get(suite="humaneval").examples.first().reference == "    return sum(numbers)\n"


def test_fixture_solutions_pass_through_the_suites_program_builders():
    """The fixtures are sound (each reference solution passes its own tests) and the builders assemble programs."""
    from evaluation.sandbox import SandboxLimits, run_programs
    from evaluation.suites import humaneval, mbpp

    rows_he, _ = read_file(fixture_path("humaneval"))
    rows_mb, _ = read_file(fixture_path("mbpp"))
    programs = [humaneval.program(r, r["canonical_solution"]) for r in rows_he]
    programs += [mbpp.program(r, r["code"]) for r in rows_mb]
    wrong = [
        humaneval.program(rows_he[0], "    return 0\n"),
        mbpp.program(rows_mb[0], "def largest_of_three(a, b, c):\n  return a"),
    ]
    results = run_programs(programs + wrong, limits=SandboxLimits(cpu_seconds=5))
    assert [r.status for r in results] == ["passed"] * len(programs) + ["failed", "failed"], [r.reason for r in results]


def test_reference_suite_scores_generations_against_demonstrations(base_model, snapshots):
    job, outcome = evaluate(base_model, suites=["reference"], demonstrations="latest", limit=3, max_new_tokens=8)
    assert outcome == "succeeded", Job_error(job)
    metrics = metrics_of("reference")
    assert set(metrics) == {"bleu", "rouge1", "rouge2", "rougeL"}
    assert 0 <= metrics["bleu"].value <= 100 and all(0 <= metrics[k].value <= 1 for k in ("rouge1", "rouge2", "rougeL"))
    assert metrics["bleu"].metadata["data"]["split"] == "validation"  # the snapshot has no test rows
    examples = list(EvaluationRun.objects.get(suite="reference").examples.all())
    assert len(examples) == 3 and all(e.reference.endswith(".") and "<|user|>" in e.input for e in examples)
    assert metrics["rougeL"].value == pytest.approx(sum(e.score for e in examples) / 3)


def test_reference_suite_needs_a_chat_template_for_conversations(base_model, snapshots):
    path = settings.ARTIFACTS_ROOT / "no-template"
    shutil.copytree(base_model.absolute_path, path)
    (path / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((path / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    model = artifact_register(spec=ArtifactSpec("model", path, name="no template"))
    job, outcome = evaluate(model, suites=["reference"], demonstrations="latest", limit=2, max_new_tokens=4)
    assert outcome == "failed"
    job.refresh_from_db()
    assert "no chat template" in job.error_message
    run = EvaluationRun.objects.get(suite="reference")
    assert run.status == "failed" and not run.metrics.exists() and not run.examples.exists()


# --- data: sources and schema errors --------------------------------------------------------------------------


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_wrong_schema_names_the_first_offending_row(tmp_path):
    good = read_file(fixture_path("mmlu"))[0]
    bad = [good[0], good[1], {k: v for k, v in good[2].items() if k != "choices"}, {"nonsense": 1}]
    path = write_jsonl(tmp_path / "mmlu.jsonl", bad)
    with pytest.raises(BenchmarkDataError, match=r"row 2 \(line 3\): field 'choices' is missing"):
        load_benchmark("mmlu", str(path), limit=1)  # a limit does not hide a bad row further down
    cases = {
        "hellaswag": ({**read_file(fixture_path("hellaswag"))[0][0], "label": "7"}, "field 'label' is 7, outside"),
        "truthfulqa": (
            {"question": "q", "mc1_targets": {"choices": ["a", "b"], "labels": [1, 1]}, "mc2_targets": {}},
            "mc1_targets' must mark exactly one choice true",
        ),
        "gsm8k": ({"question": "q", "answer": "no final answer"}, "no final answer after '####'"),
        "math": ({"problem": "p", "solution": "the answer is 3"}, r"no \\boxed"),
        "humaneval": ({"task_id": "t", "prompt": "def f():\n", "test": "assert True", "entry_point": "f"}, "check"),
        "mbpp": ({"task_id": 1, "text": "t", "test_list": "assert True"}, "'test_list' must be a list of strings"),
    }
    for fmt, (row, message) in cases.items():
        path = write_jsonl(tmp_path / f"{fmt}.jsonl", [row])
        with pytest.raises(BenchmarkDataError, match=f"row 0 \\(line 1\\): .*{message}"):
            load_benchmark(fmt, str(path))


def test_empty_missing_and_unreadable_files_fail_clearly(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(BenchmarkDataError, match="holds no rows"):
        load_benchmark("gsm8k", str(empty))
    with pytest.raises(BenchmarkDataError, match="no file or folder"):
        load_benchmark("gsm8k", str(tmp_path / "absent.jsonl"))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q", "answer": "#### 1"}\n{not json\n')
    with pytest.raises(BenchmarkDataError, match=r"row 1 \(line 2\): not valid JSON"):
        load_benchmark("gsm8k", str(broken))
    (tmp_path / "fake.parquet").write_text("not parquet")
    with pytest.raises(BenchmarkDataError, match="not a readable parquet"):
        load_benchmark("gsm8k", str(tmp_path / "fake.parquet"))


def test_parquet_json_and_dataset_folder_sources(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, _ = read_file(fixture_path("truthfulqa"))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "tqa.parquet")
    data = load_benchmark("truthfulqa", str(tmp_path / "tqa.parquet"), limit=2)
    assert len(data.rows) == 2 and data.source == {
        "kind": "file",
        "location": str(tmp_path / "tqa.parquet"),
        "rows_total": 6,
        "rows_used": 2,
    }
    assert data.rows[0]["mc1_targets"]["labels"] == [1, 0, 0, 0]
    (tmp_path / "array.json").write_text(json.dumps(rows))
    assert len(load_benchmark("truthfulqa", str(tmp_path / "array.json")).rows) == 6
    folder = tmp_path / "hellaswag-folder"
    folder.mkdir()
    shutil.copy(fixture_path("hellaswag"), folder / "validation.jsonl")
    data = load_benchmark("hellaswag", str(folder))  # through datasets.load_dataset, as a hub dataset would be
    assert data.source["kind"] == "folder" and len(data.rows) == 6 and data.rows[0]["label"] == 0  # "0" -> 0


def test_wrong_schema_through_the_job_fails_the_run_and_records_nothing(base_model, tmp_path, monkeypatch):
    """One suite's bad file fails that run only; and a missing lm-eval is said in the metrics, not hidden."""
    from evaluation.benchmarks import lm_eval_tasks

    monkeypatch.setattr(lm_eval_tasks, "lm_eval_status", lambda: (False, "lm-evaluation-harness is not importable"))
    path = write_jsonl(tmp_path / "gsm.jsonl", [{"question": "q", "answer": "#### 1"}, {"question": "q2"}])
    job, outcome = evaluate(
        base_model, suites=["gsm8k", "hellaswag"], benchmark_data={"gsm8k": str(path)}, lm_eval=True, limit=2
    )
    assert outcome == "failed"
    job.refresh_from_db()
    assert "row 1 (line 2): field 'answer' is missing" in job.error_message
    failed = EvaluationRun.objects.get(suite="gsm8k")
    assert failed.status == "failed" and not failed.metrics.exists() and not failed.examples.exists()
    metrics = metrics_of("hellaswag")  # the other suite still ran and recorded
    assert {"acc", "acc_norm"} <= set(metrics) and metrics["lm_eval_available"].value == 0.0
    assert "not importable" in metrics["lm_eval_available"].metadata["reason"]


def test_hub_names_parse_with_the_suites_defaults():
    assert parse_hub_name("mmlu", "cais/mmlu") == ("cais/mmlu", "all", "test")
    assert parse_hub_name("mmlu", "cais/mmlu:abstract_algebra@validation") == (
        "cais/mmlu",
        "abstract_algebra",
        "validation",
    )
    assert parse_hub_name("gsm8k", "someone/gsm8k-copy") == ("someone/gsm8k-copy", None, "test")


# --- the scoring primitive ---------------------------------------------------------------------------------------


def test_batched_continuation_logprobs_equal_a_plain_per_example_computation(tiny_lm_dir):
    import torch

    from evaluation.model_io import continuation_logprobs, encode_pair, load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    long_context = "Return the list of lines in the string. " * 60  # longer than the model's 256 positions
    pairs = [
        ("The answer is", " yes"),
        ("Question: what is two plus two?\nAnswer:", " four, of course"),
        ("trailing space ", "moves to the continuation"),
        ("", "an empty context conditions on BOS"),
        (long_context, " truncated from the left"),
        ("x", ""),
        ("Another question of middling length here?", " A"),
    ]

    def plain(context, continuation):
        ctx_ids, cont_ids = encode_pair(tokenizer, context, continuation)
        ids = (ctx_ids + cont_ids)[-(model.config.max_position_embeddings + 1) :]
        if not cont_ids:
            return 0.0, 0, True
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=torch.tensor([ids[:-1]])).logits[0].float(), dim=-1)
        rows = logprobs[len(ids) - 1 - len(cont_ids) :]
        targets = torch.tensor(ids[-len(cont_ids) :])
        return (
            float(rows[torch.arange(len(cont_ids)), targets].sum()),
            len(cont_ids),
            bool((rows.argmax(-1) == targets).all()),
        )

    expected = [plain(c, x) for c, x in pairs]
    for batch_size in (1, 3, 16):
        got = continuation_logprobs(model, tokenizer, pairs, batch_size=batch_size)
        for (lp, n, greedy), (lp0, n0, greedy0) in zip(got, expected, strict=True):
            assert n == n0 and greedy == greedy0
            assert lp == pytest.approx(lp0, abs=1e-4)
    _, cont_ids = encode_pair(tokenizer, "trailing space ", "moves")
    assert tokenizer.decode(cont_ids).startswith(" moves")  # the space travels with the continuation
    assert encode_pair(tokenizer, "", "x")[0] == [tokenizer.bos_token_id]
