"""prompts_import: validation line by line, all-or-nothing writes, merging instead of doubling, splits, gold, K-way."""

from collections import Counter

import pytest

from annotation.hashing import split_for
from annotation.models import Prompt, Response, Task
from annotation.services import ImportError_, prompts_import
from webapp.api_errors import ApiError

from .factories import ProjectFactory, import_records, jsonl, prompt_records

pytestmark = pytest.mark.django_db


def _counts(project) -> tuple[int, int, int]:
    return (
        Prompt.objects.filter(project=project).count(),
        Response.objects.filter(prompt__project=project).count(),
        Task.objects.filter(project=project).count(),
    )


def _import_lines(project, lines: list[bytes]):
    return prompts_import(project=project, lines=[line + b"\n" for line in lines])


GOOD = b'{"id": "g", "prompt": "Fine?", "responses": ["yes", "no"]}'

BAD_LINES = {
    "malformed json": (b'{"prompt": "unterminated', "malformed JSON"),
    "not an object": (b'["prompt", "x"]', "JSON object"),
    "prompt not a string": (b'{"prompt": 42}', '"prompt" must be a non-empty string'),
    "prompt blank": (b'{"prompt": "   "}', '"prompt" must be a non-empty string'),
    "responses not a list": (b'{"prompt": "q", "responses": {"a": 1}}', '"responses" must be a list'),
    "response not text": (b'{"prompt": "q", "responses": [7]}', "responses[0]"),
    "response model not str": (b'{"prompt": "q", "responses": [{"text": "a", "model": 3}]}', "model must be a string"),
    "response unknown key": (b'{"prompt": "q", "responses": [{"text": "a", "score": 3}]}', "unknown keys"),
    "response repeated": (b'{"prompt": "q", "responses": ["a", "a"]}', "repeats"),
    "metadata not object": (b'{"prompt": "q", "metadata": [1]}', '"metadata" must be an object'),
    "id is bool": (b'{"id": true, "prompt": "q"}', '"id" must be a string'),
    "id empty": (b'{"id": "", "prompt": "q"}', '"id" must have 1 to 255'),
    "unknown key": (b'{"prompt": "q", "answer": "a"}', "unknown keys ['answer']"),
    "both prompt and messages": (
        b'{"prompt": "q", "messages": [{"role": "user", "content": "q"}]}',
        'exactly one of "prompt"',
    ),
    "neither prompt nor messages": (b'{"id": "x"}', 'exactly one of "prompt"'),
    "messages not a list": (b'{"messages": "hello"}', '"messages" must be a non-empty list'),
    "messages empty": (b'{"messages": []}', '"messages" must be a non-empty list'),
    "message bad role": (b'{"messages": [{"role": "robot", "content": "hi"}]}', "role must be one of"),
    "message extra key": (b'{"messages": [{"role": "user", "content": "hi", "name": "x"}]}', "messages[0]"),
    "message content not str": (b'{"messages": [{"role": "user", "content": ["hi"]}]}', "content must be"),
    "last message not from user": (
        b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}',
        "last message must be from the user",
    ),
    "non-utf8 bytes": (b'{"prompt": "caf\xe9"}', "not valid UTF-8"),
    "gold without enough responses": (b'{"prompt": "q", "responses": ["a"], "gold": {"ranking": [0]}}', "gold item"),
    "gold ranking out of range": (
        b'{"prompt": "q", "responses": ["a", "b"], "gold": {"ranking": [0, 2]}}',
        "each response index",
    ),
    "gold ranking not indices": (
        b'{"prompt": "q", "responses": ["a", "b"], "gold": {"ranking": ["a", "b"]}}',
        "response indices",
    ),
}


@pytest.mark.parametrize("bad, reason", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_one_bad_line_rejects_the_whole_file_with_its_line_number(bad, reason):
    project = ProjectFactory()
    lines = [GOOD.replace(b'"g"', f'"g{i}"'.encode()) for i in range(5)]
    lines[2] = bad
    with pytest.raises(ImportError_) as caught:
        _import_lines(project, lines)
    assert caught.value.extra["line"] == 3
    assert caught.value.detail.startswith("line 3:")
    assert reason in str(caught.value.detail)
    assert _counts(project) == (0, 0, 0)


def test_the_first_bad_line_is_reported():
    project = ProjectFactory()
    with pytest.raises(ImportError_) as caught:
        _import_lines(project, [GOOD, b"{nope", b"{also bad"])
    assert caught.value.extra["line"] == 2


def test_blank_lines_are_skipped_but_counted_for_line_numbers():
    project = ProjectFactory()
    with pytest.raises(ImportError_) as caught:
        _import_lines(project, [GOOD, b"", b"   ", b"{broken"])
    assert caught.value.extra["line"] == 4
    summary = _import_lines(project, [b"", GOOD, b""])
    assert summary.prompts_created == 1


def test_line_over_the_size_limit_is_rejected(settings):
    settings.ANNOTATION_IMPORT_MAX_LINE_BYTES = 100
    project = ProjectFactory()
    fits = b'{"prompt": "' + b"x" * (100 - 14) + b'"}'
    assert len(fits) == 100
    too_long = b'{"prompt": "' + b"x" * 200 + b'"}'
    with pytest.raises(ImportError_) as caught:
        _import_lines(project, [fits, too_long])
    assert caught.value.extra["line"] == 2
    assert "longer than 100 bytes" in caught.value.detail
    assert _counts(project) == (0, 0, 0)
    assert _import_lines(project, [fits]).prompts_created == 1


def test_whole_import_size_limit(settings):
    settings.ANNOTATION_IMPORT_MAX_BYTES = 300
    project = ProjectFactory()
    lines = [GOOD.replace(b'"g"', f'"g{i}"'.encode()) for i in range(10)]
    with pytest.raises(ImportError_) as caught:
        _import_lines(project, lines)
    assert "exceeds 300 bytes" in caught.value.detail
    assert _counts(project) == (0, 0, 0)


@pytest.mark.parametrize("lines", [[], [b""], [b"", b"  \t", b"\r\n"]], ids=["nothing", "one blank", "blanks"])
def test_empty_import_is_rejected(lines):
    project = ProjectFactory()
    with pytest.raises(ApiError) as caught:
        prompts_import(project=project, lines=lines)
    assert caught.value.get_codes() == "empty_import"


def test_crlf_line_endings_are_accepted():
    project = ProjectFactory()
    summary = prompts_import(project=project, lines=[GOOD + b"\r\n", b'{"prompt": "second"}\r\n'])
    assert summary.prompts_created == 2


def test_reimporting_the_same_ids_creates_no_duplicates_and_merges_new_responses():
    project = ProjectFactory(task_kinds=["comparison"])
    first = import_records(project, prompt_records(4, k=2))
    assert (first.prompts_created, first.responses_created, first.tasks_created) == (4, 8, 4)
    before = _counts(project)

    again = import_records(project, prompt_records(4, k=2))
    assert (again.prompts_created, again.prompts_merged, again.responses_created, again.tasks_created) == (0, 4, 0, 0)
    assert _counts(project) == before

    grown = prompt_records(4, k=2)
    grown[0]["responses"].append("a brand new answer")
    merged = import_records(project, grown)
    assert (merged.prompts_created, merged.responses_created) == (0, 1)
    p0 = Prompt.objects.get(project=project, external_id="p0")
    assert sorted(r.text for r in p0.responses.all()) == ["a brand new answer", "answer 0 to p0", "answer 1 to p0"]
    # the new response is paired, and the old pair is not duplicated
    groups = [frozenset(t.response_ids) for t in Task.objects.filter(prompt=p0)]
    assert len(groups) == len(set(groups)) == 2
    assert set().union(*groups) == {r.pk for r in p0.responses.all()}


def test_same_content_without_id_is_merged():
    project = ProjectFactory(task_kinds=["comparison"])
    record = {"prompt": "What is 2+2?", "responses": ["4", "5"]}
    summary = import_records(project, [record, dict(record, responses=["4", "four"])])
    assert summary.prompts_created == 1
    import_records(project, [record])
    prompt = Prompt.objects.get(project=project)
    assert sorted(prompt.responses.values_list("text", flat=True)) == ["4", "5", "four"]
    assert _counts(project)[0] == 1


def test_same_content_under_a_new_id_is_merged_not_doubled():
    project = ProjectFactory()
    import_records(project, [{"id": "a", "prompt": "Same text"}])
    summary = import_records(project, [{"id": "b", "prompt": "Same text"}])
    assert (summary.prompts_created, summary.prompts_merged) == (0, 1)
    assert Prompt.objects.filter(project=project).count() == 1


def test_conflicting_content_for_an_existing_id_is_rejected_and_nothing_is_written():
    project = ProjectFactory()
    import_records(project, [{"id": "x", "prompt": "Original"}])
    before = _counts(project)
    lines = jsonl([{"id": "new", "prompt": "Fresh", "responses": ["a", "b"]}, {"id": "x", "prompt": "Changed"}])
    with pytest.raises(ImportError_) as caught:
        prompts_import(project=project, lines=lines.splitlines(keepends=True))
    assert caught.value.extra["line"] == 2
    assert "exists already with a different prompt" in caught.value.detail
    assert _counts(project) == before


def test_conflicting_content_for_the_same_id_within_one_file_is_rejected():
    project = ProjectFactory()
    with pytest.raises(ImportError_) as caught:
        import_records(project, [{"id": "x", "prompt": "One"}, {"id": "x", "prompt": "Two"}])
    assert caught.value.extra["line"] == 2
    assert _counts(project) == (0, 0, 0)


def test_integer_ids_are_stored_as_strings_and_match_on_reimport():
    project = ProjectFactory()
    import_records(project, [{"id": 17, "prompt": "Seventeen"}])
    summary = import_records(project, [{"id": "17", "prompt": "Seventeen"}])
    assert summary.prompts_created == 0
    assert Prompt.objects.get(project=project).external_id == "17"


def test_conversation_prompts_keep_their_messages():
    project = ProjectFactory(task_kinds=["comparison"])
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Name a prime."},
    ]
    import_records(project, [{"id": "c1", "messages": messages, "responses": ["7", "9"], "metadata": {"src": "t"}}])
    prompt = Prompt.objects.get(project=project)
    assert prompt.is_conversation
    assert prompt.messages == messages
    assert prompt.metadata == {"src": "t"}
    assert prompt.text.startswith("System: Be brief.") and prompt.text.endswith("User: Name a prime.")
    plain = Prompt.objects.create(
        project=project, messages=[{"role": "user", "content": "q"}], content_hash="h", is_conversation=False
    )
    assert plain.text == "q"


def test_response_sources_and_generation_params():
    project = ProjectFactory()
    import_records(
        project,
        [
            {
                "prompt": "q",
                "responses": [
                    "typed by a person",
                    {"text": "from a model", "model": "tiny-gpt", "model_version": "v3", "generation_params": {"t": 1}},
                ],
            }
        ],
    )
    human, model = Response.objects.filter(prompt__project=project).order_by("id")
    assert (human.source, human.model_name) == ("human", "")
    assert (model.source, model.model_name, model.model_version) == ("model", "tiny-gpt", "v3")
    assert model.generation_params == {"t": 1}


def test_split_is_deterministic_from_the_id_hash_and_matches_the_ratios():
    ratios = {"train": 0.8, "validation": 0.1, "test": 0.1}
    project = ProjectFactory(split_ratios=ratios, task_kinds=["comparison"])
    records = [{"id": f"item-{i}", "prompt": f"Prompt number {i}"} for i in range(2000)]
    import_records(project, records)
    splits = dict(Prompt.objects.filter(project=project).values_list("external_id", "split"))
    assert len(splits) == 2000
    assert all(splits[r["id"]] == split_for(r["id"], ratios) for r in records)
    shares = Counter(splits.values())
    assert abs(shares["train"] / 2000 - 0.8) < 0.03
    assert abs(shares["validation"] / 2000 - 0.1) < 0.02
    assert abs(shares["test"] / 2000 - 0.1) < 0.02

    # The same ids in another project (other prompt text even) land in the same splits.
    other = ProjectFactory(split_ratios=ratios, task_kinds=["comparison"])
    import_records(other, [{"id": r["id"], "prompt": r["prompt"] + " (reworded)"} for r in records[:200]])
    assert dict(Prompt.objects.filter(project=other).values_list("external_id", "split")) == {
        r["id"]: splits[r["id"]] for r in records[:200]
    }


def test_split_without_id_uses_the_content_hash():
    ratios = {"train": 0.5, "validation": 0.25, "test": 0.25}
    project = ProjectFactory(split_ratios=ratios)
    import_records(project, [{"prompt": f"anonymous {i}"} for i in range(40)])
    for prompt in Prompt.objects.filter(project=project):
        assert prompt.split == split_for(prompt.content_hash, ratios)
    assert len(set(Prompt.objects.filter(project=project).values_list("split", flat=True))) == 3


def test_split_for_edges():
    assert split_for("anything", {"train": 1.0}) == "train"
    assert {split_for(f"k{i}", {"test": 1.0}) for i in range(50)} == {"test"}
    assert split_for("same", {"train": 0.5, "test": 0.5}) == split_for("same", {"train": 0.5, "test": 0.5})


def test_gold_items_become_gold_tasks_with_the_ranking_mapped_to_response_ids():
    project = ProjectFactory(responses_per_comparison=3, task_kinds=["comparison"])
    import_records(
        project,
        [
            {
                "id": "gold-1",
                "prompt": "Which is best?",
                "responses": ["ok", "best", "worst"],
                "gold": {"ranking": [1, 0, 2]},
            }
        ],
    )
    task = Task.objects.get(project=project)
    by_text = {r.text: r.pk for r in Response.objects.filter(prompt__project=project)}
    assert task.is_gold
    assert task.gold_ranking == [[by_text["best"]], [by_text["ok"]], [by_text["worst"]]]
    assert sorted(task.response_ids) == sorted(by_text.values())
    assert set(task.responses.values_list("pk", flat=True)) == set(by_text.values())
    # importing it again makes no second gold task
    import_records(project, [{"id": "gold-1", "prompt": "Which is best?", "responses": ["ok", "best", "worst"]}])
    assert Task.objects.filter(project=project).count() == 1


def test_gold_ranking_with_ties():
    project = ProjectFactory(responses_per_comparison=3, task_kinds=["comparison"])
    import_records(project, [{"prompt": "q", "responses": ["a", "b", "c"], "gold": {"ranking": [[0, 2], 1]}}])
    task = Task.objects.get(project=project)
    ids = {r.text: r.pk for r in Response.objects.filter(prompt__project=project)}
    assert task.gold_ranking == [[ids["a"], ids["c"]], [ids["b"]]]


@pytest.mark.parametrize(
    "n_responses, expected_tasks", [(1, 0), (2, 1), (3, 1), (4, 2), (6, 2), (7, 3)], ids=lambda v: str(v)
)
def test_k3_grouping(n_responses, expected_tasks):
    project = ProjectFactory(responses_per_comparison=3, task_kinds=["comparison"])
    import_records(project, [{"prompt": "q", "responses": [f"r{i}" for i in range(n_responses)]}])
    tasks = list(Task.objects.filter(project=project))
    assert len(tasks) == expected_tasks
    all_ids = set(Response.objects.filter(prompt__project=project).values_list("pk", flat=True))
    for task in tasks:
        assert len(task.response_ids) == min(3, n_responses)
        assert len(set(task.response_ids)) == len(task.response_ids)
        assert set(task.responses.values_list("pk", flat=True)) == set(task.response_ids)
    if tasks:
        assert set().union(*(t.response_ids for t in tasks)) == all_ids
    assert len({frozenset(t.response_ids) for t in tasks}) == len(tasks)


def test_task_kinds_follow_the_project_and_reimport_adds_none():
    project = ProjectFactory(task_kinds=["comparison", "demonstration"])
    summary = import_records(project, [*prompt_records(3, k=2), {"id": "solo", "prompt": "no responses"}])
    kinds = Counter(Task.objects.filter(project=project).values_list("kind", flat=True))
    assert kinds == {"demonstration": 4, "comparison": 3}
    assert summary.tasks_created == 7
    assert import_records(project, prompt_records(3, k=2)).tasks_created == 0

    demo_only = ProjectFactory(task_kinds=["demonstration"])
    import_records(demo_only, prompt_records(2, k=2))
    assert set(Task.objects.filter(project=demo_only).values_list("kind", flat=True)) == {"demonstration"}


def test_many_prompts_in_one_import_are_written_in_bulk(django_assert_max_num_queries):
    project = ProjectFactory(task_kinds=["comparison"])
    records = prompt_records(600, k=2)
    with django_assert_max_num_queries(40):
        summary = import_records(project, records)
    assert (summary.prompts_created, summary.responses_created, summary.tasks_created) == (600, 1200, 600)
