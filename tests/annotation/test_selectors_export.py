"""Export rows: the exact TRL shapes (standard and conversational preferences, SFT messages and prompt/completion),
filters, fixed order, and the JSONL/Parquet byte streams."""

import inspect
import io
import re

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.db import connection

from annotation.export_formats import jsonl_stream, parquet_stream, stream_columns
from annotation.models import PreferencePair, Prompt, Response
from annotation.selectors.export import (
    PreferenceFilters,
    SftFilters,
    preference_batches,
    preference_rows,
    sft_batches,
    sft_rows,
)
from annotation.services import demonstration_review
from webapp import fastsql
from webapp.api_errors import ApiError

from .factories import ProjectFactory, demonstrate, fix_order, hi_first, import_records, judge, lo_first, member

pytestmark = pytest.mark.django_db

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Capital of France?"},
]


@pytest.fixture
def judged():
    """Three prompts (one a conversation), overlap 3: unanimous, 2-1 and tied votes."""
    project = ProjectFactory(overlap=3, task_kinds=["comparison"], split_ratios={"train": 1.0})
    import_records(
        project,
        [
            {"id": "plain", "prompt": "What is 2+2?", "responses": ["4", "5"]},
            {"id": "chat", "messages": CONVERSATION, "responses": ["Paris.", "Lyon."]},
            {"id": "split-vote", "prompt": "Best color?", "responses": ["blue", "green"]},
        ],
    )
    Prompt.objects.filter(project=project, external_id="chat").update(split="validation")
    Prompt.objects.filter(project=project, external_id="split-vote").update(split="test")
    fix_order(project)  # tasks in import order: plain, chat, split-vote
    users = [member(project) for _ in range(3)]
    votes = {0: [lo_first, lo_first, lo_first], 1: [lo_first, lo_first, hi_first], 2: [lo_first, hi_first, "tie"]}
    for task_index in range(3):
        for user, vote in zip(users, votes[task_index], strict=True):
            if vote == "tie":
                judge(project, user, lambda a: [sorted(a.task.response_ids)])
            else:
                judge(project, user, vote, strength="clear")
    return project


def _rows(project, **filters):
    return list(preference_rows(project=project, filters=PreferenceFilters(**filters)))


def test_standard_rows_are_strings_in_trl_shape(judged):
    rows = _rows(judged)
    assert [r["prompt_id"] for r in rows] == ["plain", "chat"]  # the tied pair is left out
    plain, chat = rows
    assert (plain["prompt"], plain["chosen"], plain["rejected"]) == ("What is 2+2?", "4", "5")
    assert chat["prompt"] == ("System: You are terse.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Capital of France?")
    assert (chat["chosen"], chat["rejected"]) == ("Paris.", "Lyon.")
    for row in rows:
        assert all(isinstance(row[k], str) for k in ("prompt", "chosen", "rejected"))
    assert plain["votes_chosen"] == 3 and plain["agreement"] == 1.0 and plain["margin"] == 1.0
    assert chat["votes_chosen"] == 2 and chat["votes_rejected"] == 1
    assert chat["agreement"] == pytest.approx(2 / 3)
    assert plain["strength"] == 2.0
    assert plain["split"] == "train" and chat["split"] == "validation"
    pair = PreferencePair.objects.get(prompt__external_id="plain")
    assert plain["id"] == f"pair-{pair.pk}"
    assert (plain["chosen_id"], plain["rejected_id"]) == (pair.chosen_id, pair.rejected_id)


def test_conversational_rows_hold_message_lists(judged):
    plain, chat = _rows(judged, style="conversational")
    assert plain["prompt"] == [{"role": "user", "content": "What is 2+2?"}]
    assert plain["chosen"] == [{"role": "assistant", "content": "4"}]
    assert plain["rejected"] == [{"role": "assistant", "content": "5"}]
    assert chat["prompt"] == CONVERSATION
    assert chat["chosen"] == [{"role": "assistant", "content": "Paris."}]


def test_split_filter(judged):
    assert [r["prompt_id"] for r in _rows(judged, split="validation")] == ["chat"]
    assert [r["prompt_id"] for r in _rows(judged, split="train")] == ["plain"]
    assert _rows(judged, split="test") == []
    assert [r["prompt_id"] for r in _rows(judged, split="test", include_ties=True)] == ["split-vote"]


def test_min_agreement(judged):
    assert [r["prompt_id"] for r in _rows(judged, min_agreement=0.7)] == ["plain"]
    assert [r["prompt_id"] for r in _rows(judged, min_agreement=2 / 3)] == ["plain", "chat"]
    assert [r["prompt_id"] for r in _rows(judged, min_agreement=0.0)] == ["plain", "chat"]
    assert _rows(judged, min_agreement=1.0)[0]["prompt_id"] == "plain"


def test_include_ties(judged):
    rows = _rows(judged, include_ties=True)
    assert [r["prompt_id"] for r in rows] == ["plain", "chat", "split-vote"]
    tie = rows[2]
    assert (tie["votes_chosen"], tie["votes_rejected"], tie["votes_tie"]) == (1, 1, 1)


@pytest.mark.parametrize(
    "filters",
    [
        {"split": "holdout"},
        {"style": "chatml"},
        {"min_agreement": 1.5},
        {"min_agreement": -0.1},
        {"min_agreement": float("nan")},
    ],
    ids=repr,
)
def test_invalid_preference_filters(filters):
    with pytest.raises(ApiError) as caught:
        PreferenceFilters(**filters)
    assert caught.value.get_codes() == "invalid_filter"


def test_rows_are_streamed_lazily_in_a_fixed_order(judged, django_assert_num_queries):
    with django_assert_num_queries(0):
        rows = preference_rows(project=judged, filters=PreferenceFilters())
    assert inspect.isgenerator(rows)
    assert list(rows) == _rows(judged)
    assert b"".join(jsonl_stream(_rows(judged))) == b"".join(jsonl_stream(_rows(judged)))


def test_other_projects_never_leak(judged):
    other = ProjectFactory(task_kinds=["comparison"])
    import_records(other, [{"prompt": "elsewhere", "responses": ["x", "y"]}])
    judge(other, member(other))
    assert [r["prompt_id"] for r in _rows(judged)] == ["plain", "chat"]
    assert len(_rows(other)) == 1


@pytest.fixture
def demos():
    project = ProjectFactory(task_kinds=["demonstration"], split_ratios={"train": 1.0})
    import_records(
        project,
        [
            {"id": "d-plain", "prompt": "Say hi.", "responses": ["hey"]},
            {"id": "d-chat", "messages": CONVERSATION},
            {"id": "d-pending", "prompt": "Pending one."},
            {"id": "d-rejected", "prompt": "Rejected one."},
        ],
    )
    Prompt.objects.filter(project=project, external_id="d-chat").update(split="test")
    fix_order(project)
    writer, reviewer = member(project), member(project, "reviewer")
    source = Response.objects.get(prompt__external_id="d-plain")
    texts = ["Hi there!", "Paris.", "Still waiting.", "Nope."]
    made = [demonstrate(project, writer, texts[0], source_response_id=source.pk)]
    made += [demonstrate(project, writer, t) for t in texts[1:]]
    demonstration_review(demonstration_id=made[0].pk, reviewer=reviewer, decision="accepted")
    demonstration_review(demonstration_id=made[1].pk, reviewer=reviewer, decision="accepted")
    demonstration_review(demonstration_id=made[3].pk, reviewer=reviewer, decision="rejected", comment="wrong")
    return project


def _sft(project, **filters):
    return list(sft_rows(project=project, filters=SftFilters(**filters)))


def test_sft_messages_rows(demos):
    rows = _sft(demos)
    assert [r["prompt_id"] for r in rows] == ["d-plain", "d-chat"]  # accepted only
    assert rows[0]["messages"] == [
        {"role": "user", "content": "Say hi."},
        {"role": "assistant", "content": "Hi there!"},
    ]
    assert rows[1]["messages"] == [*CONVERSATION, {"role": "assistant", "content": "Paris."}]
    assert set(rows[0]) == {"messages", "id", "prompt_id", "split"}


def test_sft_prompt_completion_rows(demos):
    rows = _sft(demos, style="standard")
    assert (rows[0]["prompt"], rows[0]["completion"]) == ("Say hi.", "Hi there!")
    assert rows[1]["prompt"].endswith("User: Capital of France?") and rows[1]["completion"] == "Paris."
    assert "messages" not in rows[0]


def test_sft_filters(demos):
    assert [r["prompt_id"] for r in _sft(demos, split="test")] == ["d-chat"]
    assert [r["prompt_id"] for r in _sft(demos, include_pending=True)] == ["d-plain", "d-chat", "d-pending"]
    with pytest.raises(ApiError):
        SftFilters(split="dev")
    with pytest.raises(ApiError):
        SftFilters(style="sharegpt")


@pytest.mark.train
def test_trl_recognizes_every_style(judged, demos):
    """TRL's own predicate decides whether a trainer applies the chat template; importing trl costs seconds, so
    every shape is checked in this one test."""
    from trl.data_utils import is_conversational

    assert not any(is_conversational(r) for r in _rows(judged))
    assert all(is_conversational(r) for r in _rows(judged, style="conversational"))
    assert all(is_conversational(r) for r in _sft(demos))
    assert not any(is_conversational(r) for r in _sft(demos, style="standard"))


def test_jsonl_stream_is_one_object_per_line(judged):
    rows = _rows(judged, style="conversational", include_ties=True)
    data = b"".join(jsonl_stream(rows))
    assert data.endswith(b"\n") and data.count(b"\n") == 3
    assert [orjson.loads(line) for line in data.splitlines()] == rows
    assert b"".join(jsonl_stream([])) == b""


def test_jsonl_stream_flushes_in_bounded_chunks():
    rows = ({"prompt": "p" * 1000, "i": i} for i in range(1000))
    chunks = list(jsonl_stream(rows))
    assert len(chunks) > 1
    assert max(len(c) for c in chunks) < 2 * 256 * 1024


def test_parquet_stream_round_trips_rows(judged):
    for style in ("standard", "conversational"):
        rows = _rows(judged, style=style, include_ties=True)
        table = pq.read_table(io.BytesIO(b"".join(parquet_stream(rows))))
        assert table.to_pylist() == rows


def test_parquet_stream_writes_row_groups_as_it_goes(monkeypatch):
    from annotation import export_formats

    monkeypatch.setattr(export_formats, "PARQUET_ROW_GROUP", 100)
    rows = [{"prompt": f"p{i}", "chosen": "a", "rejected": "b", "margin": 0.5} for i in range(350)]
    chunks = list(parquet_stream(iter(rows)))
    assert len(chunks) == 4
    parquet = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert parquet.metadata.num_row_groups == 4
    assert parquet.read().to_pylist() == rows


def test_an_empty_parquet_export_is_a_valid_file():
    table = pq.read_table(io.BytesIO(b"".join(parquet_stream(iter([])))))
    assert table.num_rows == 0


def test_the_jsonl_bytes_keep_their_keys_order_and_float_format(judged):
    """Snapshots hash these bytes: key order, ints and floats (1.0, not 1) must never drift."""
    pair = PreferencePair.objects.get(prompt__external_id="plain")
    line = b"".join(jsonl_stream(_rows(judged, split="train"))).rstrip(b"\n")
    assert line == (
        b'{"prompt":"What is 2+2?","chosen":"4","rejected":"5","id":"pair-%d","prompt_id":"plain",'
        b'"chosen_id":%d,"rejected_id":%d,"split":"train","margin":1.0,"agreement":1.0,"strength":2.0,'
        b'"votes_chosen":3,"votes_rejected":0,"votes_tie":0}' % (pair.pk, pair.chosen_id, pair.rejected_id)
    )


@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_parquet_from_column_batches_is_what_from_pylist_made(judged, style, monkeypatch):
    """Same schema as ``pa.Table.from_pylist`` inferred (list<struct> message columns included) and the same bytes
    as the row path, with fetches and row groups that do not line up."""
    from annotation import export_formats
    from annotation.selectors import export

    monkeypatch.setattr(export, "BATCH", 1)
    monkeypatch.setattr(export_formats, "PARQUET_ROW_GROUP", 2)
    filters = PreferenceFilters(style=style, include_ties=True)
    rows = list(preference_rows(project=judged, filters=filters))
    data = b"".join(stream_columns(preference_batches(project=judged, filters=filters), "parquet"))
    assert data == b"".join(parquet_stream(iter(rows)))
    table = pq.read_table(io.BytesIO(data))
    assert table.schema == pa.Table.from_pylist(rows).schema
    assert table.to_pylist() == rows
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == 2


def test_column_batches_and_rows_give_the_same_jsonl(judged, demos):
    for style in ("standard", "conversational"):
        filters = PreferenceFilters(style=style, include_ties=True)
        batches = preference_batches(project=judged, filters=filters)
        assert b"".join(stream_columns(batches, "jsonl")) == b"".join(jsonl_stream(_rows(judged, **filters.as_dict())))
        sft = SftFilters(style=style, include_pending=True)
        assert b"".join(stream_columns(sft_batches(project=demos, filters=sft), "jsonl")) == b"".join(
            jsonl_stream(_sft(demos, **sft.as_dict()))
        )


def _sqlite_caches() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA mmap_size")
        return cache_size, cursor.fetchone()[0]


def _configured_caches() -> tuple[int, int]:
    init = settings.DATABASES["default"]["OPTIONS"]["init_command"]
    return int(re.search(r"cache_size=(-?\d+)", init)[1]), int(re.search(r"mmap_size=(\d+)", init)[1])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache and memory map")
def test_an_export_shrinks_sqlite_caches_and_restores_them(judged, demos):
    """A large export would otherwise grow the process by the whole page cache and memory map (bench/export.py)."""
    configured = _configured_caches()
    assert _sqlite_caches() == configured
    lean = (-fastsql.STREAMING_SQLITE_CACHE_KIB, 0)
    rows = preference_rows(project=judged, filters=PreferenceFilters())
    next(rows)
    assert _sqlite_caches() == lean
    assert len(list(rows)) == 1
    assert _sqlite_caches() == configured
    # closed early, as when the HTTP client goes away mid-download
    rows = preference_rows(project=judged, filters=PreferenceFilters())
    next(rows)
    rows.close()
    assert _sqlite_caches() == configured
    sft = sft_rows(project=demos, filters=SftFilters())
    next(sft)
    assert _sqlite_caches() == lean
    del sft  # dropped unfinished: the generator's finally still runs
    assert _sqlite_caches() == configured
    # an export failing in the consumer
    with pytest.raises(RuntimeError):
        for _ in preference_rows(project=judged, filters=PreferenceFilters()):
            raise RuntimeError("consumer failed")
    assert _sqlite_caches() == configured


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache and memory map")
def test_nested_streaming_reads_restore_the_configured_caches(judged):
    configured = _configured_caches()
    outer = preference_rows(project=judged, filters=PreferenceFilters())
    next(outer)
    inner = preference_rows(project=judged, filters=PreferenceFilters())
    assert len(list(inner)) == 2
    assert _sqlite_caches() == (-fastsql.STREAMING_SQLITE_CACHE_KIB, 0)  # the outer export is still reading
    assert len(list(outer)) == 1
    assert _sqlite_caches() == configured


@pytest.mark.django_db(transaction=True)
def test_an_export_outside_a_transaction_streams_and_leaves_autocommit(judged):
    """The API's case: no transaction open. PostgreSQL reads in its own REPEATABLE READ transaction (the cursor
    WITHOUT HOLD); afterwards the connection is back in autocommit on every backend."""
    assert not connection.in_atomic_block
    rows = preference_rows(project=judged, filters=PreferenceFilters())
    first = next(rows)
    if connection.vendor == "postgresql":
        assert connection.in_atomic_block
        with connection.cursor() as cursor:
            cursor.execute("SHOW transaction_isolation")
            assert cursor.fetchone()[0] == "repeatable read"
    assert [first, *rows] == _rows(judged)
    assert not connection.in_atomic_block and connection.get_autocommit()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a READ COMMITTED transaction around the export")
def test_pairs_whose_prompt_vanished_mid_export_are_left_out(judged, monkeypatch):
    """Inside an outer transaction the lookups see deletions made after the cursor opened; such pairs are gone."""
    from annotation.selectors import export

    monkeypatch.setattr(export, "BATCH", 1)
    rows = preference_rows(project=judged, filters=PreferenceFilters(include_ties=True))
    assert next(rows)["prompt_id"] == "plain"
    Prompt.objects.filter(project=judged, external_id="chat").delete()
    assert [r["prompt_id"] for r in rows] == ["split-vote"]
