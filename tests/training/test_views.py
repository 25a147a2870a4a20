"""Job pages: list filters, the job page in every state, reports, plotly, access, live updates in a browser."""

import gzip
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from tests.annotation.factories import UserFactory
from training.models import Job, JobStatus
from training.services import job_execute, job_launch
from training.views.assets import plotly_js_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished_job():
    job = job_launch(kind="test_steps", config={"steps": 5}, name="five steps")
    assert job_execute(job_id=job.pk, hostname="worker-a") == "succeeded"
    job.refresh_from_db()
    return job


def _html(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.content.decode()


# --- access ------------------------------------------------------------------------------------------------------


def test_pages_need_login_and_staff(client, finished_job):
    artifact = finished_job.outputs.get()
    urls = [
        reverse("training:job-list"),
        reverse("training:job-detail", args=[finished_job.pk]),
        reverse("training:job-log", args=[finished_job.pk]),
        reverse("training:artifact-detail", args=[artifact.pk]),
        reverse("training:artifact-download", args=[artifact.pk]),
        reverse("training:tokenizer-compare"),
    ]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/"), url
    client.force_login(UserFactory())
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_nav_link_for_staff_only(client, engineer):
    client.force_login(UserFactory())
    assert reverse("training:job-list") not in client.get(reverse("annotation:home")).content.decode()
    client.force_login(engineer)
    assert reverse("training:job-list") in client.get(reverse("annotation:home")).content.decode()


# --- list ----------------------------------------------------------------------------------------------------------


def test_list_filters(staff, finished_job):
    queued = job_launch(kind="test_steps", config={}, name="waiting")
    gpu = job_launch(kind="test_steps", config={}, name="on gpu", queue="gpu")
    Job.objects.filter(pk=gpu.pk).update(status=JobStatus.RUNNING, progress_step=3, progress_total=12)

    def listed(**params) -> set[int]:
        html = _html(staff.get(reverse("training:job-list"), params))
        return {j.pk for j in (finished_job, queued, gpu) if f'data-job-id="{j.pk}"' in html}

    assert listed() == {finished_job.pk, queued.pk, gpu.pk}
    assert listed(status="succeeded") == {finished_job.pk}
    assert listed(status="queued") == {queued.pk}
    assert listed(queue="gpu") == {gpu.pk}
    assert listed(kind="test_steps", queue="cpu") == {finished_job.pk, queued.pk}
    assert listed(kind="prepare_corpus") == set()
    # An unknown value is reported on the form; the other filters still apply, nothing breaks.
    resp = staff.get(reverse("training:job-list"), {"status": "exploded", "queue": "gpu"})
    assert "Select a valid choice" in _html(resp)
    assert listed(status="exploded", queue="gpu") == {gpu.pk}
    html = _html(staff.get(reverse("training:job-list"), {"queue": "gpu"}))
    assert 'style="width: 25.0%"' in html  # 3 of 12 steps
    assert "3 / 12" in html
    assert 'data-status="running"' in html and "static/training/job_list.js" in html  # live rows refresh


def test_list_paginates(staff):
    for _ in range(55):
        job_launch(kind="test_steps", config={})
    html = _html(staff.get(reverse("training:job-list")))
    assert html.count("data-job-id=") == 50 and "page 1 of 2" in html
    html = _html(staff.get(reverse("training:job-list"), {"page": 2}))
    assert html.count("data-job-id=") == 5


# --- the job page in each state ------------------------------------------------------------------------------------


def test_detail_queued(staff):
    job = job_launch(kind="test_steps", config={"steps": 3})
    html = _html(staff.get(reverse("training:job-detail", args=[job.pk])))
    assert 'id="job-status">queued<' in html
    assert '<button class="btn btn-danger" type="button" data-action="cancel" >' in html
    assert 'data-action="retry" hidden' in html
    assert '"steps": 3' in html  # the pretty config
    assert 'id="job-page-config"' in html and f'"/api/v1/jobs/{job.pk}/metrics/"' in html
    assert "/jobs/static/plotly.min.js?v=" in html
    assert "static/training/job.js" in html


def test_detail_running_shows_progress_and_eta(staff):
    job = job_launch(kind="test_steps", config={"steps": 10})
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempt=1,
        worker_host="gpu-host-3",
        worker_pid=4242,
        progress_step=4,
        progress_total=10,
        progress_message="step 4",
        progress_started_at=timezone.now() - timedelta(seconds=40),
        started_at=timezone.now() - timedelta(seconds=40),
        heartbeat_at=timezone.now(),
        log_tail="line one\n<b>not bold</b>",
    )
    html = _html(staff.get(reverse("training:job-detail", args=[job.pk])))
    assert 'id="job-status">running<' in html
    assert "4 / 10" in html and "(40.0%)" in html and "step 4" in html
    assert "ETA 1 min 00 s" in html or "ETA 59 s" in html or "ETA 1 min 01 s" in html
    assert "gpu-host-3 (pid 4242)" in html
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "<b>not bold</b>" not in html


def test_detail_succeeded_has_result_artifacts_and_reports(staff, finished_job):
    html = _html(staff.get(reverse("training:job-detail", args=[finished_job.pk])))
    assert 'id="job-status">succeeded<' in html
    assert 'data-action="cancel" hidden' in html and 'data-action="retry" hidden' in html
    assert finished_job.result["summary"]["digest"] in html  # result summary and the "final" report
    assert 'id="report-final"' in html
    artifact = finished_job.outputs.get()
    assert reverse("training:artifact-download", args=[artifact.pk]) in html
    assert artifact.sha256[:12] in html and reverse("training:artifact-detail", args=[artifact.pk]) in html
    assert reverse("training:job-log", args=[finished_job.pk]) in html
    assert "worker-a" in html


def test_detail_failed_shows_error_and_traceback(staff):
    job = job_launch(kind="test_steps", config={"steps": 4, "fail_at_step": 2})
    assert job_execute(job_id=job.pk) == "failed"
    html = _html(staff.get(reverse("training:job-detail", args=[job.pk])))
    assert 'id="job-status">failed<' in html
    assert "RuntimeError: planned failure at step 2" in html
    assert "Traceback (most recent call last)" in html
    assert '<button class="btn" type="button" data-action="retry" >' in html


def test_detail_unknown_job_is_404(staff):
    assert staff.get(reverse("training:job-detail", args=[987654])).status_code == 404


def test_full_log(staff, finished_job):
    resp = staff.get(reverse("training:job-log", args=[finished_job.pk]))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/plain")
    assert f"job {finished_job.pk}, attempt 1" in b"".join(resp.streaming_content).decode()


# --- reports --------------------------------------------------------------------------------------------------------


def test_corpus_funnel_and_samples_are_rendered_escaped(staff):
    job = job_launch(kind="test_steps", config={})
    funnel = [
        {"step": "read", "documents_in": 100, "documents_out": 100, "bytes_in": 50_000, "bytes_out": 50_000},
        {"step": "exact_dedup", "documents_in": 100, "documents_out": 80, "bytes_in": 50_000, "bytes_out": 40_000},
        {
            "step": "pii",
            "documents_in": 80,
            "documents_out": 80,
            "bytes_in": 40_000,
            "bytes_out": 39_000,
            "redacted": 7,
        },
    ]
    samples = {
        "exact_dedup": ["a duplicate <script>alert(1)</script>"],
        "pii": [{"before": "mail me at a@b.example", "after": "mail me at <EMAIL>", "types": ["email"]}],
        "near_dup": [
            {"id": "doc-9", "rule": "near_duplicate", "similar_to": "doc-3", "text": "<i>almost</i>\nthe same"}
        ],
    }
    extra = {"languages": {"en": 75, "de": 5}, "notes": ["one", "two"]}
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, result={"reports": {"funnel": funnel, "samples": samples, "extra_stats": extra}}
    )
    html = _html(staff.get(reverse("training:job-detail", args=[job.pk])))
    assert 'id="funnel-table"' in html and 'id="funnel-chart"' in html and 'id="funnel-data"' in html
    assert "exact_dedup" in html and "80.0%" in html and ">20<" in html  # kept share and removed count
    assert '"documents": [100, 80, 80]' in html and '"bytes": [50000, 40000, 39000]' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "mail me at &lt;EMAIL&gt;" in html
    assert '<details class="sample-group" data-step="pii">' in html
    # A sample with text: its labels on one line, its text preformatted and escaped.
    assert "doc-9" in html and "near_duplicate" in html and "&lt;i&gt;almost&lt;/i&gt;\nthe same</pre>" in html
    assert 'id="report-extra_stats"' in html and '<th scope="row">en</th>' in html


def test_tokenizer_report_is_rendered(staff):
    job = Job.objects.create(
        kind="train_tokenizer",
        status=JobStatus.SUCCEEDED,
        result={
            "reports": {
                "tokenizer_report": {
                    "format": "plumbline.tokenizer_report/1",
                    "tokenizer": {"algorithm": "bpe", "vocab_size": 2048},
                    "evaluation": {"chars_per_token": 3.91234, "bytes_per_token": 3.95, "unk_rate": 0.0},
                    "samples": [
                        {"id": "doc-1", "text": "Hello world", "tokens": ["Hello", "Ġworld", "<x>"], "n_tokens": 3}
                    ],
                }
            }
        },
    )
    html = _html(staff.get(reverse("training:job-detail", args=[job.pk])))
    assert "Tokenizer report" in html and "chars_per_token" in html and "3.912" in html
    assert '<span class="chip-token">Ġworld</span>' in html and '<span class="chip-token">&lt;x&gt;</span>' in html
    assert f"{reverse('training:tokenizer-compare')}?ids={job.pk}" in html


# --- plotly --------------------------------------------------------------------------------------------------------


def test_plotly_is_served_from_the_installed_package(staff):
    path = plotly_js_path()
    assert path is not None and path.parts[-3:] == ("plotly", "package_data", "plotly.min.js")
    assert {"site-packages", "dist-packages"} & set(path.parts)  # the installed package, not a copy
    assert not list(Path(__file__).resolve().parents[2].glob("training/static/**/plotly*.js"))
    url = reverse("training:plotly-js")
    resp = staff.get(url)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/javascript")
    assert b"".join(resp.streaming_content) == path.read_bytes()
    assert "max-age=31536000" in resp["Cache-Control"] and resp["ETag"]
    zipped = staff.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == path.read_bytes()
    assert len(zipped.content) < path.stat().st_size / 2
    assert staff.get(url, HTTP_IF_NONE_MATCH=resp["ETag"]).status_code == 304


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser_page(monkeypatch):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    # Playwright's sync API keeps an asyncio loop on this thread; the ORM calls between browser steps are plain
    # synchronous code, so Django's async-context guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, errors
        browser.close()
        # ORM calls made beside Playwright's loop get a connection of their own context; close it, or PostgreSQL
        # refuses to drop the test database at the end of the session.
        connections.close_all()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_job_page_goes_live_from_queued_to_succeeded(browser_page, live_server, settings):
    from tests.annotation.factories import EngineerFactory

    settings.JOB_HEARTBEAT_SECONDS = 0.3
    page, errors = browser_page
    EngineerFactory(username="watcher")
    job = job_launch(kind="test_steps", config={"steps": 8, "seconds_per_step": 0.25})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "watcher")
    page.fill("#id_password", "pw-plumbline-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/annotate/")
    page.goto(f"{live_server.url}{reverse('training:job-detail', args=[job.pk])}")
    assert page.text_content("#job-status") == "queued"

    def work() -> None:
        try:
            job_execute(job_id=job.pk, hostname="browser-test")
        finally:
            connections.close_all()  # this thread's connection, or the test database cannot be dropped

    worker = threading.Thread(target=work)
    worker.start()
    try:
        page.wait_for_function("document.getElementById('job-status').textContent === 'running'", timeout=20_000)
        page.wait_for_function("document.querySelectorAll('#charts .chart').length === 2", timeout=20_000)
        # The page reloads itself once the job has finished, to show its result and artifacts.
        page.wait_for_selector("#result-card:not([hidden])", timeout=30_000)
    finally:
        worker.join(timeout=30)
    assert page.text_content("#job-status") == "succeeded"
    page.wait_for_function("document.querySelectorAll('#charts .chart').length === 2", timeout=20_000)
    points = page.evaluate("document.querySelector('#charts .chart[data-metric=loss]').data[0].x.length")
    assert points == 8
    assert page.get_attribute("#job-progress", "aria-valuenow") == "100"
    assert page.is_visible("[data-action=clone]") and not page.is_visible("[data-action=cancel]")
    assert errors == []
