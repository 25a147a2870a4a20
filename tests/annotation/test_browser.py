"""The annotation UI in a real Chromium: keyboard ranking, in-place next task, demonstrations, review, escaping.

Drives Debian's /usr/bin/chromium through Playwright's sync API against pytest-django's live server, and checks every
outcome in the database, not only on screen.
"""

from pathlib import Path

import pytest
from django.db import connections

from annotation.models import Assignment, Demonstration, Judgment, Role
from annotation.services import prompts_import, task_skip

from .factories import MembershipFactory, jsonl, seeded_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "pw-plumbline-1"  # factories.UserFactory
SCRIPT_PROMPT = "Explain this tag: <script>window.__pwned = true</script>"


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # While Playwright's loop runs, Django keys connections by context, so the test body's ORM calls opened a
        # connection of their own; close it here, or PostgreSQL refuses to drop the test database at the end.
        connections.close_all()


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an asyncio loop on this thread; the ORM calls made here between browser steps are
    # plain synchronous code, so Django's async-context guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _login(browser, live_server, username):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/annotate/")
    return page, errors


def _task_id(page) -> int:
    page.wait_for_selector("#task:not([hidden])")
    return int(page.get_attribute("#task", "data-task-id"))


def _wait_for_next(page, previous: int) -> None:
    page.wait_for_function(
        """previous => {
            const task = document.querySelector('#task');
            const empty = document.querySelector('#empty');
            return (!task.hidden && task.dataset.taskId !== String(previous)) || !empty.hidden;
        }""",
        arg=previous,
    )


def _display_order(page) -> list[int]:
    return [
        int(x) for x in page.eval_on_selector_all("#responses .response-card", "cards => cards.map(c => c.dataset.id)")
    ]


def _shows_script_prompt_as_text(page) -> bool:
    """True when the current task is the <script> prompt, after checking it is displayed as text and did not run."""
    if "<script>" not in page.inner_text("#prompt"):
        return False
    assert SCRIPT_PROMPT in page.inner_text("#prompt")
    assert page.locator("#prompt script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    return True


def _projects():
    pairs, (annotator,) = seeded_project(n=2, k=2, annotators=1, name="pairs", guidelines="Be **fair**.")
    records = [{"id": "xss", "prompt": SCRIPT_PROMPT, "responses": ["It is a <b>tag</b>.", "A script element."]}]
    prompts_import(project=pairs, lines=jsonl(records).splitlines(keepends=True))
    triples, _ = seeded_project(n=2, k=3, annotators=0, name="triples", task_kinds=["comparison"])
    MembershipFactory(project=triples, user=annotator)
    reviewer = MembershipFactory(project=pairs, role=Role.REVIEWER).user
    return pairs, triples, annotator, reviewer


def test_annotate_rank_demonstrate_review(browser, live_server):
    pairs, triples, annotator, reviewer = _projects()
    page, errors = _login(browser, live_server, annotator.username)
    assert page.locator(f'[data-project="{pairs.pk}"]').is_visible()

    # --- K=2: 1 chooses the first response shown, Shift+2 says "clearly", Enter submits; next task in place.
    page.goto(f"{live_server.url}/annotate/projects/{pairs.pk}/compare/")
    first_task = _task_id(page)
    order = _display_order(page)
    seen_script_prompt = _shows_script_prompt_as_text(page)
    page.evaluate("window.__samePage = 'yes'")
    page.keyboard.press("?")
    page.wait_for_selector("#help:not([hidden])")
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    page.select_option(f'select[data-criterion="helpfulness"][data-id="{order[0]}"]', "1")
    page.select_option(f'select[data-criterion="helpfulness"][data-id="{order[1]}"]', "2")
    page.check('input[name="flag"][value="pii"]')
    page.fill("#rationale", "The first one answers the question.")
    page.keyboard.press("Escape")  # leave the text field, so keys are shortcuts again
    page.keyboard.press("1")
    page.keyboard.press("Shift+2")
    assert page.get_attribute('[data-choice="0"]', "aria-pressed") == "true"
    assert page.get_attribute('[data-strength="clear"]', "aria-pressed") == "true"
    page.keyboard.press("Enter")
    _wait_for_next(page, first_task)
    judgment = Judgment.objects.get(task_id=first_task, annotator=annotator)
    assert judgment.ranking == [[order[0]], [order[1]]]
    assert judgment.strength == "clear"
    assert judgment.display_order == order
    assert judgment.criteria == {"helpfulness": {"ranking": [[order[0]], [order[1]]]}}
    assert judgment.flags == ["pii"] and judgment.rationale == "The first one answers the question."
    assert judgment.idempotency_key and judgment.time_spent_ms is not None
    assert page.evaluate("window.__samePage") == "yes", "the next task must load without a page load"
    page.wait_for_function("() => document.querySelector('[data-progress=done]').textContent.trim() === '1'")

    # --- the prompt holding <script> is shown as text and never runs (it is one of this project's tasks).
    for _ in range(2):
        task = _task_id(page)
        seen_script_prompt |= _shows_script_prompt_as_text(page)
        page.keyboard.press("0")  # a tie, so both remaining tasks are judged quickly
        page.keyboard.press("Enter")
        _wait_for_next(page, task)
    assert seen_script_prompt
    page.wait_for_selector("#empty:not([hidden])")  # 204 from the API: nothing left
    assert Judgment.objects.filter(task__project=pairs, annotator=annotator).count() == 3

    # --- K=3 ranking by keys: 3 then 1; the last one is placed automatically.
    page.goto(f"{live_server.url}/annotate/projects/{triples.pk}/compare/")
    task = _task_id(page)
    order = _display_order(page)
    page.keyboard.press("3")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_for_next(page, task)
    assert Judgment.objects.get(task_id=task).ranking == [[order[2]], [order[0]], [order[1]]]

    # --- K=3 ranking by drag and drop: 2 into the ranking, then 3 dropped above it, then 1 below.
    task = _task_id(page)
    order = _display_order(page)

    def chip(n):
        return page.locator(f'#pool .chip[data-id="{order[n - 1]}"]')

    chip(2).drag_to(page.locator("#ranking"))
    chip(3).drag_to(page.locator("#ranking li").first, target_position={"x": 40, "y": 2})
    chip(1).drag_to(page.locator("#ranking"))
    page.keyboard.press("Enter")
    _wait_for_next(page, task)
    assert Judgment.objects.get(task_id=task).ranking == [[order[2]], [order[1]], [order[0]]]
    page.wait_for_selector("#empty:not([hidden])")

    # --- a demonstration edited from the second response, with a live preview.
    page.goto(f"{live_server.url}/annotate/projects/{pairs.pk}/demonstrate/")
    task = _task_id(page)
    candidates = page.eval_on_selector_all(".candidate", "nodes => nodes.map(n => Number(n.dataset.id))")
    page.click(f'.start-from[data-id="{candidates[1]}"]')
    original = page.input_value("#editor")
    assert original
    page.locator("#editor").press("End")
    page.locator("#editor").type("\n\nMore **detail** here.")
    page.wait_for_function("() => document.querySelector('#preview strong')?.textContent === 'detail'")
    page.keyboard.press("Control+Enter")
    _wait_for_next(page, task)
    demonstration = Demonstration.objects.get(task_id=task, annotator=annotator)
    assert demonstration.source_response_id == candidates[1]
    assert demonstration.original_text == original
    assert demonstration.text == original + "\n\nMore **detail** here."
    assert demonstration.review_status == "pending"
    assert errors == []

    # --- the reviewer accepts it.
    review_page, review_errors = _login(browser, live_server, reviewer.username)
    review_page.goto(f"{live_server.url}/annotate/projects/{pairs.pk}/review/")
    card = review_page.locator(f'.review-card[data-id="{demonstration.pk}"]')
    card.wait_for()
    assert "More **detail** here." in card.locator("ins").first.inner_text()  # the edit, highlighted
    card.locator("textarea").fill("Clear and correct.")
    card.locator('[data-decision="accepted"]').click()
    card.locator(".badge-accepted").wait_for()
    demonstration.refresh_from_db()
    assert demonstration.review_status == "accepted"
    assert demonstration.reviewer_id == reviewer.pk and demonstration.review_comment == "Clear and correct."
    assert review_errors == []


def test_api_errors_are_shown_to_the_user(browser, live_server):
    pairs, _triples, annotator, _reviewer = _projects()
    page, errors = _login(browser, live_server, annotator.username)
    page.goto(f"{live_server.url}/annotate/projects/{pairs.pk}/compare/")
    task = _task_id(page)
    page.keyboard.press("Enter")  # nothing chosen yet: caught before any request
    page.wait_for_selector("#alert:not([hidden])")
    assert "Choose the better response" in page.inner_text("#alert")

    task_skip(task_id=task, annotator=annotator)  # as if skipped in another tab: the server now answers 409
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_for_next(page, task)
    alert = page.inner_text("#alert")
    assert "You skipped this task." in alert and "skipped" in alert
    assert not Judgment.objects.filter(task_id=task).exists()

    task = _task_id(page)
    page.keyboard.press("s")
    _wait_for_next(page, task)
    assert Assignment.objects.get(task_id=task, annotator=annotator).status == Assignment.Status.SKIPPED

    # The judgment reaches the server but the answer is lost: the retry replays its Idempotency-Key, counted once.
    task = _task_id(page)
    sent_keys = []

    def lose_the_answer(route):
        route.fetch()
        sent_keys.append(route.request.headers["idempotency-key"])
        route.abort()

    page.route("**/judgments/", lose_the_answer, times=1)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#alert').innerText.includes('could not be reached')")
    assert Judgment.objects.filter(task_id=task).count() == 1
    page.keyboard.press("Enter")
    _wait_for_next(page, task)
    assert list(Judgment.objects.filter(task_id=task).values_list("idempotency_key", flat=True)) == sent_keys
    assert page.is_hidden("#alert")  # a replay is a success, not an "already submitted" conflict
    page.wait_for_selector("#empty:not([hidden])")
    assert errors == []
