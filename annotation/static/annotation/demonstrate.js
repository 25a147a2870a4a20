/*
 * Demonstration page: write the ideal reply from scratch or by editing one of the prompt's responses (the server keeps
 * the original), with a live preview rendered by the same server-side markdown renderer everything else uses.
 * Drafts live in sessionStorage per task, so a reload resumes the leased task with the text intact.
 */
(function () {
  "use strict";

  const P = window.plumbline;
  const cfg = P.pageConfig();
  const MOVE_ON_CODES = new Set(["already_submitted", "skipped", "lease_expired", "not_assigned", "not_found"]);
  const PREVIEW_DELAY_MS = 250;

  const $ = (id) => document.getElementById(id);
  const nodes = {
    alert: $("alert"),
    loading: $("loading"),
    empty: $("empty"),
    task: $("task"),
    taskId: $("task-id"),
    prompt: $("prompt"),
    candidates: $("candidates"),
    startBlank: $("start-blank"),
    editor: $("editor"),
    sourceNote: $("source-note"),
    preview: $("preview"),
    previewState: $("preview-state"),
    submit: $("submit"),
    skip: $("skip"),
    help: $("help"),
  };

  const state = { task: null, source: null, baseText: "", armed: null, startedAt: 0, busy: false };
  let previewTimer = null;
  let previewSeq = 0;

  /* ---------- drafts ---------- */

  const draftKey = () => `plumbline:draft:${state.task.id}`;

  function saveDraft() {
    try {
      sessionStorage.setItem(draftKey(), JSON.stringify({ text: nodes.editor.value, source: state.source }));
    } catch (err) {
      /* storage full or disabled: the draft only lives in the page */
    }
  }

  function loadDraft() {
    try {
      return JSON.parse(sessionStorage.getItem(draftKey()) || "null");
    } catch (err) {
      return null;
    }
  }

  function clearDraft(taskId) {
    try {
      sessionStorage.removeItem(`plumbline:draft:${taskId}`);
    } catch (err) {
      /* nothing to clear */
    }
  }

  /* ---------- rendering ---------- */

  function candidateNumber(id) {
    return state.task.candidates.findIndex((c) => c.id === id) + 1;
  }

  function renderTask(task) {
    state.task = task;
    task.candidates = task.candidates || [];
    state.startedAt = performance.now();
    state.armed = null;
    nodes.taskId.textContent = `task #${task.id}`;
    nodes.task.dataset.taskId = String(task.id);
    P.renderConversation(nodes.prompt, task);
    nodes.candidates.replaceChildren(
      ...task.candidates.map((c, i) =>
        P.el("article", { className: "candidate", dataset: { id: String(c.id) } }, [
          P.el("header", { className: "candidate-head" }, [
            P.el("span", { className: "response-num", text: String(i + 1) }),
            P.el("span", { className: "response-title", text: `Response ${i + 1}` }),
            P.el("button", {
              type: "button",
              className: "btn btn-sm start-from",
              dataset: { id: String(c.id) },
              text: `Edit response ${i + 1}`,
            }),
          ]),
          P.sanitizedHtml(c.html),
        ]),
      ),
    );
    if (!task.candidates.length) {
      nodes.candidates.append(P.el("p", { className: "muted small", text: "This prompt has no responses to start from." }));
    }
    const draft = loadDraft();
    if (draft && typeof draft.text === "string") {
      setSource(task.candidates.some((c) => c.id === draft.source) ? draft.source : null, draft.text);
      state.baseText = "";
    } else {
      setSource(null, "");
    }
    nodes.loading.hidden = true;
    nodes.empty.hidden = true;
    nodes.task.hidden = false;
    window.scrollTo({ top: 0 });
  }

  function setSource(id, text) {
    state.source = id;
    state.baseText = text;
    state.armed = null;
    nodes.editor.value = text;
    nodes.sourceNote.textContent =
      id === null ? "Writing from scratch" : `Editing response ${candidateNumber(id)} (the original is kept)`;
    resetStartButtons();
    schedulePreview(0);
  }

  function resetStartButtons() {
    for (const button of nodes.candidates.querySelectorAll(".start-from")) {
      button.textContent = `Edit response ${candidateNumber(Number(button.dataset.id))}`;
      button.setAttribute("aria-pressed", String(Number(button.dataset.id) === state.source));
    }
    nodes.startBlank.textContent = "Blank page";
  }

  function startFrom(id, button) {
    const dirty = nodes.editor.value.trim() !== "" && nodes.editor.value !== state.baseText;
    const armKey = id === null ? "blank" : String(id);
    if (dirty && state.armed !== armKey) {
      state.armed = armKey;
      resetStartButtons();
      button.textContent = "Replace your edits? Click again";
      return;
    }
    const text = id === null ? "" : state.task.candidates.find((c) => c.id === id).text;
    setSource(id, text);
    saveDraft();
    nodes.editor.focus();
  }

  function schedulePreview(delay) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(updatePreview, delay);
  }

  async function updatePreview() {
    const seq = ++previewSeq;
    const text = nodes.editor.value;
    if (!text.trim()) {
      nodes.preview.replaceChildren(P.el("p", { className: "muted", text: "Nothing to preview yet." }));
      nodes.previewState.textContent = "";
      return;
    }
    nodes.previewState.textContent = "updating…";
    try {
      const { data } = await P.api("POST", "/annotate/preview/", { body: { text } });
      if (seq !== previewSeq) return; // a newer keystroke already asked for a newer preview
      nodes.preview.replaceChildren(...P.sanitizedHtml(data.html).childNodes);
      nodes.previewState.textContent = "";
    } catch (err) {
      if (seq === previewSeq) nodes.previewState.textContent = `preview unavailable: ${err.message}`;
    }
  }

  /* ---------- submit, skip, next ---------- */

  function setBusy(busy) {
    state.busy = busy;
    nodes.submit.disabled = busy;
    nodes.skip.disabled = busy;
    nodes.task.classList.toggle("busy", busy);
  }

  function loadNext() {
    return P.loadNextTask(cfg, "demonstration", state, nodes, renderTask);
  }

  async function submit() {
    if (state.busy || !state.task) return;
    const text = nodes.editor.value;
    if (!text.trim()) return P.showAlert(nodes.alert, "Write the demonstration first.");
    const taskId = state.task.id;
    const body = {
      text,
      source_response_id: state.source,
      time_spent_ms: Math.round(performance.now() - state.startedAt),
    };
    setBusy(true);
    try {
      const headers = { "Idempotency-Key": P.idempotency.get("demonstration", taskId) };
      await P.api("POST", `/api/v1/tasks/${taskId}/demonstrations/`, { body, headers });
      P.idempotency.clear("demonstration", taskId);
      clearDraft(taskId);
      P.hideAlert(nodes.alert);
      await loadNext();
    } catch (err) {
      P.showAlert(nodes.alert, err.message, err.code);
      if (MOVE_ON_CODES.has(err.code)) {
        P.idempotency.clear("demonstration", taskId);
        clearDraft(taskId);
        await loadNext();
      }
    } finally {
      setBusy(false);
    }
  }

  async function skip() {
    if (state.busy || !state.task) return;
    const taskId = state.task.id;
    setBusy(true);
    try {
      await P.api("POST", `/api/v1/tasks/${taskId}/skip/`);
      clearDraft(taskId);
      P.hideAlert(nodes.alert);
      await loadNext();
    } catch (err) {
      P.showAlert(nodes.alert, err.message, err.code);
      if (MOVE_ON_CODES.has(err.code) || err.code.startsWith("already_")) await loadNext();
    } finally {
      setBusy(false);
    }
  }

  /* ---------- wiring ---------- */

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit();
      return;
    }
    if (event.key === "Escape") {
      if (!nodes.help.hidden) nodes.help.hidden = true;
      else if (P.isTyping(event)) event.target.blur();
      return;
    }
    if (P.isTyping(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?") {
      event.preventDefault();
      nodes.help.hidden = !nodes.help.hidden;
    } else if (!state.task || state.busy || !nodes.help.hidden) {
      /* nothing else applies */
    } else if (event.key === "e" || event.key === "E") {
      event.preventDefault();
      nodes.editor.focus();
    } else if (event.key === "s" || event.key === "S") {
      event.preventDefault();
      skip();
    }
  });
  nodes.editor.addEventListener("input", () => {
    if (state.armed !== null) resetStartButtons();
    state.armed = null;
    saveDraft();
    schedulePreview(PREVIEW_DELAY_MS);
  });
  nodes.candidates.addEventListener("click", (event) => {
    const button = event.target.closest(".start-from");
    if (button) startFrom(Number(button.dataset.id), button);
  });
  nodes.startBlank.addEventListener("click", () => startFrom(null, nodes.startBlank));
  nodes.submit.addEventListener("click", submit);
  nodes.skip.addEventListener("click", skip);
  nodes.help.addEventListener("click", (event) => {
    if (event.target === nodes.help) nodes.help.hidden = true;
  });
  P.bindToggles();
  loadNext();
})();
