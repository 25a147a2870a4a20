"""The jobs admin: a launch form per kind from its config schema, presets, inline errors, actions, read-only rows."""

from dataclasses import dataclass
from typing import Literal

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import NoReverseMatch, reverse

from tests.annotation.factories import UserFactory
from training.configs import ConfigError, field
from training.models import Artifact, Job, JobStatus
from training.presets import PRESETS
from training.runners import KINDS, JobKind, validate_config
from training.services import job_execute, job_launch

pytestmark = pytest.mark.django_db

ADD = "/admin/training/job/add/"
CHANGELIST = "/admin/training/job/"


@dataclass
class Item:
    """One nested item."""

    x: int = field(1, help="x value")

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ConfigError("must be >= 0", "x")


@dataclass
class RichConfig:
    """Every field shape the launch form handles."""

    mode: Literal["fast", "slow"] = field("fast", help="how to run")
    ratio: float = field(0.5, help="a ratio")
    label: str = field("hello", help="a label")
    limit: int | None = field(None, help="optional limit")
    enabled: bool = field(True, help="a switch")
    items: list[Item] = field(default_factory=lambda: [Item()], help="nested items")
    weights: dict[str, float] = field(default_factory=lambda: {"a": 1.0}, help="weights per name")
    source: str = field("", help="a dataset to read", artifact="dataset")


RICH = JobKind("test_rich", __name__, "RichConfig", "gpu", "Every field shape (tests only).")


@pytest.fixture(autouse=True)
def _rich_kind(monkeypatch):
    monkeypatch.setitem(KINDS, RICH.name, RICH)


def _html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


def _row(html: str, name: str) -> str:
    """The form row of one config field (label, input, errors, help)."""
    start = html.index(f'class="form-row field-{name}')
    return html[start : html.index('<div class="form-row', start + 10)]


def _post(client, kind: str, config: dict, **placement) -> object:
    data = {"kind": kind, "job-queue": placement.pop("queue", "cpu"), **{f"job-{k}": v for k, v in placement.items()}}
    data.update({f"config-{k}": v for k, v in config.items()})
    return client.post(ADD, data)


# --- the launch form -------------------------------------------------------------------------------------------


def test_kind_choice_lists_kinds_and_presets(staff):
    html = _html(staff.get(ADD))
    for name in KINDS:
        assert f'id="kind-{name}"' in html
    assert f'href="{ADD}?kind=test_steps"' in html
    assert "?kind=train_tokenizer&amp;preset=BPE+32k" in html
    assert "Every field shape (tests only)." in html


def test_form_per_kind_shows_defaults_and_help(staff):
    html = _html(staff.get(ADD, {"kind": "test_steps"}))
    steps = _row(html, "steps")
    assert 'name="config-steps" value="10"' in steps and "units of work" in steps
    assert 'name="config-seconds_per_step" value="0.0"' in html
    assert '<option value="cpu" selected>' in html  # the kind's queue


def test_rich_form_shapes(staff):
    html = _html(staff.get(ADD, {"kind": "test_rich"}))
    assert '<option value="&quot;fast&quot;" selected>fast</option>' in _row(html, "mode")
    assert 'value="0.5"' in _row(html, "ratio") and 'value="hello"' in _row(html, "label")
    assert (
        'name="config-limit"' in _row(html, "limit")
        and "value=" not in _row(html, "limit").split("<input")[1].split(">")[0]
    )
    assert 'type="checkbox" name="config-enabled"' in _row(html, "enabled") and "checked" in _row(html, "enabled")
    items = _row(html, "items")
    assert "<textarea" in items and "&quot;x&quot;: 1" in items and "nested items" in items
    assert "&quot;a&quot;: 1.0" in _row(html, "weights")
    assert '<option value="gpu" selected>' in html


def test_every_registered_kind_gets_a_form(staff):
    for name, kind in KINDS.items():
        schema_fields = kind.load_config_class().__dataclass_fields__
        html = _html(staff.get(ADD, {"kind": name}))
        for field_name in schema_fields:
            assert f'name="config-{field_name}"' in html, (name, field_name)


def test_preset_prefills_the_form(staff, monkeypatch):
    monkeypatch.setitem(PRESETS, "test_steps", {"quick": {"steps": 3, "seconds_per_step": 0.25}})
    html = _html(staff.get(ADD, {"kind": "test_steps"}))
    assert "?kind=test_steps&amp;preset=quick" in html
    html = _html(staff.get(ADD, {"kind": "test_steps", "preset": "quick"}))
    assert 'name="config-steps" value="3"' in html and 'name="config-seconds_per_step" value="0.25"' in html
    assert 'aria-current="true">quick</a>' in html
    assert 'name="config-fail_at_step" value="-1"' in html  # untouched fields keep their defaults


def test_real_presets_are_valid_configs(staff):
    checked = 0
    for kind, presets in PRESETS.items():
        if kind not in KINDS:
            continue
        try:
            KINDS[kind].load_config_class()
        except ImportError:
            continue  # that runner is not in this checkout yet
        for name, config in presets.items():
            validate_config(kind, config)
            assert _html(staff.get(ADD, {"kind": kind, "preset": name}))
            checked += 1
    assert checked >= 3


def test_real_preset_prefill(staff):
    try:
        KINDS["train_tokenizer"].load_config_class()
    except ImportError:
        pytest.skip("the train_tokenizer runner is not importable yet")
    html = _html(staff.get(ADD, {"kind": "train_tokenizer", "preset": "Unigram 16k"}))
    assert 'name="config-vocab_size" value="16000"' in html
    assert '<option value="&quot;unigram&quot;" selected>' in html


# --- submitting ---------------------------------------------------------------------------------------------------


def test_launch_creates_the_job_and_goes_to_its_page(staff, engineer):
    resp = _post(
        staff,
        "test_steps",
        {"steps": "4", "seconds_per_step": "0", "fail_at_step": "-1", "checkpoint_every": "2"},
        name="from admin",
        queue="default",
    )
    job = Job.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("training:job-detail", args=[job.pk])
    assert job.config == {"steps": 4, "seconds_per_step": 0.0, "fail_at_step": -1, "checkpoint_every": 2}
    assert job.name == "from admin" and job.queue == "default" and job.created_by == engineer
    assert job.status == JobStatus.QUEUED
    assert LogEntry.objects.filter(object_id=str(job.pk)).exists()
    assert "Launched" in _html(staff.get(resp["Location"]))  # the success message shows on the job page


def test_invalid_field_is_shown_inline_and_nothing_is_created(staff):
    resp = _post(
        staff, "test_steps", {"steps": "0", "seconds_per_step": "0", "fail_at_step": "-1", "checkpoint_every": "1"}
    )
    html = _html(resp)
    row = _row(html, "steps")
    assert "errors" in row.split(">")[0] and "must be at least 1" in row
    assert "Nothing was launched" in html
    assert 'name="config-steps" value="0"' in html  # the input keeps what was typed
    resp = _post(staff, "test_steps", {"steps": "lots"})
    assert "Enter a whole number" in _row(_html(resp), "steps")
    assert not Job.objects.exists()


def test_nested_and_json_errors_attach_to_their_field(staff):
    base = {"mode": '"fast"', "ratio": "0.5", "label": "x", "limit": "", "enabled": "on", "weights": "{}", "source": ""}
    html = _html(_post(staff, "test_rich", {**base, "items": '[{"x": -1}]'}, queue="gpu"))
    assert "items[0].x: must be &gt;= 0" in _row(html, "items")
    html = _html(_post(staff, "test_rich", {**base, "items": "[{oops"}, queue="gpu"))
    assert "Enter a valid JSON" in _row(html, "items")
    html = _html(_post(staff, "test_rich", {**base, "items": "[]", "mode": '"turbo"'}, queue="gpu"))
    assert "Select a valid choice" in _row(html, "mode")
    html = _html(_post(staff, "test_rich", {**base, "items": "[]", "weights": '{"a": "heavy"}'}, queue="gpu"))
    assert "weights.a: expected a number" in _row(html, "weights")
    # An input artifact that does not exist: the error lands on the field that references it.
    html = _html(_post(staff, "test_rich", {**base, "items": "[]", "source": "latest"}, queue="gpu"))
    assert "There is no dataset yet" in _row(html, "source")
    html = _html(_post(staff, "test_rich", {**base, "items": "[]"}, queue="gpu", gpus="-2"))
    assert "greater than or equal to 0" in _row(html, "gpus")
    # The service's own placement rules come back inline too (this kind runs in one process).
    html = _html(_post(staff, "test_rich", {**base, "items": "[]"}, queue="gpu", hosts="2"))
    assert "cannot use several processes or hosts" in html.split('id="placement-errors"')[1]
    assert not Job.objects.exists()


def test_rich_config_round_trips(staff, settings):
    dataset = Artifact.objects.create(kind="dataset", name="d", path="jobs/d", sha256="0")
    config = {
        "mode": '"slow"',
        "ratio": "0.75",
        "label": "  spaced  ",
        "limit": "",
        "items": '[{"x": 5}, {}]',
        "weights": '{"b": 2}',
        "source": "latest",
    }  # "enabled" unchecked: absent from the POST
    resp = _post(staff, "test_rich", config, queue="gpu", gpus="1", hosts="1")
    assert resp.status_code == 302, [line for line in resp.content.decode().splitlines() if "error" in line]
    job = Job.objects.get()
    assert job.config == {
        "mode": "slow",
        "ratio": 0.75,
        "label": "  spaced  ",
        "limit": None,
        "enabled": False,
        "items": [{"x": 5}, {"x": 1}],
        "weights": {"b": 2.0},
        "source": str(dataset.pk),
    }
    assert job.queue == "gpu" and job.resources == {"gpus": 1, "hosts": 1}
    assert list(job.inputs.all()) == [dataset]


def test_clone_with_changes(staff):
    source = job_launch(kind="test_steps", config={"steps": 7}, name="original", queue="default")
    html = _html(staff.get(ADD, {"clone": source.pk}))
    assert 'name="config-steps" value="7"' in html and f'name="clone" value="{source.pk}"' in html
    assert 'value="original"' in html and '<option value="default" selected>' in html
    resp = staff.post(ADD, {"clone": source.pk, "kind": "test_steps", "job-queue": "cpu", "config-steps": "8"})
    assert resp.status_code == 302
    clone = Job.objects.exclude(pk=source.pk).get()
    assert clone.source_job == source and clone.config["steps"] == 8 and clone.queue == "cpu"


def test_unknown_kind_and_non_staff(client, staff):
    resp = staff.get(ADD, {"kind": "nope"})
    assert resp.status_code == 302 and resp["Location"] == ADD
    client.force_login(UserFactory())
    resp = client.get(ADD, {"kind": "test_steps"})
    assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


# --- actions and read-only rows -------------------------------------------------------------------------------------


def _action(client, action: str, jobs) -> str:
    resp = client.post(CHANGELIST, {"action": action, "_selected_action": [j.pk for j in jobs]}, follow=True)
    return _html(resp)


def test_cancel_retry_clone_actions(staff, engineer):
    queued = job_launch(kind="test_steps", config={"steps": 2})
    done = job_launch(kind="test_steps", config={"steps": 2})
    job_execute(job_id=done.pk)
    failed = job_launch(kind="test_steps", config={"steps": 3, "fail_at_step": 1})
    job_execute(job_id=failed.pk)

    html = _action(staff, "cancel_jobs", [queued, done])
    queued.refresh_from_db()
    assert queued.status == JobStatus.CANCELLED
    assert "The job has already succeeded." in html and "Cancelled" in html

    html = _action(staff, "retry_jobs", [failed, done])
    failed.refresh_from_db()
    assert failed.status == JobStatus.QUEUED and failed.error_message == ""
    assert "Only failed or cancelled jobs can be retried." in html

    _action(staff, "clone_jobs", [done])
    clone = Job.objects.get(source_job=done)
    assert clone.config == done.config and clone.created_by == engineer and clone.status == JobStatus.QUEUED


def test_changelist_filters_and_columns(staff):
    job = job_launch(kind="test_steps", config={"steps": 4})
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, progress_step=1, progress_total=4)
    html = _html(staff.get(CHANGELIST, {"status__exact": "running", "kind": "test_steps"}))
    assert "1/4" in html and "width:25.0%" in html and reverse("training:job-detail", args=[job.pk]) in html
    assert f'value="{job.pk}"' not in _html(staff.get(CHANGELIST, {"status__exact": "failed"}))
    assert f'value="{job.pk}"' in _html(staff.get(CHANGELIST, {"q": str(job.pk)}))


def test_change_view_is_read_only_with_links(staff):
    job = job_launch(kind="test_steps", config={"steps": 4})
    url = f"/admin/training/job/{job.pk}/change/"
    html = _html(staff.get(url))
    assert "&quot;steps&quot;: 4" in html  # pretty config
    assert reverse("training:job-detail", args=[job.pk]) in html and f"{ADD}?clone={job.pk}" in html
    assert 'name="_save"' not in html
    assert staff.post(url, {"name": "changed"}).status_code == 403
    assert staff.post(f"/admin/training/job/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.name == ""


def test_artifact_admin_is_read_only(staff, settings):
    job = job_launch(kind="test_steps", config={"steps": 1})
    job_execute(job_id=job.pk)
    output = Artifact.objects.get(job=job)
    parent = Artifact.objects.create(kind="dataset", name="parent", path="jobs/p", sha256="f" * 64, size_bytes=2048)
    output.parents.add(parent)
    html = _html(staff.get("/admin/training/artifact/", {"kind__exact": "report"}))
    assert output.sha256[:12] in html and reverse("training:job-detail", args=[job.pk]) in html
    assert reverse("training:artifact-detail", args=[parent.pk]) in html
    html = _html(staff.get(f"/admin/training/artifact/{parent.pk}/change/"))
    assert "2.0\xa0KB" in html and 'name="_save"' not in html
    assert staff.get("/admin/training/artifact/add/").status_code == 403
    with pytest.raises(NoReverseMatch):
        reverse("admin:training_jobmetric_changelist")
