/*
 * Comparison page: keyboard-first pairwise choice or K-way ranking of responses shown in the recorded display order.
 *
 * The state is one ranking (groups of tied response ids, best first); a pairwise choice is just a ranking of two.
 * After a submit the next task is fetched and rendered in place, without a page load. It cannot be fetched before the
 * submit: the API serves one lease per annotator and kind (fetching early would return the current task again, and a
 * second lease would hold an overlap slot nobody works on), so the next task is requested the moment the submit lands.
 */
(function () {
  "use strict";

  const P = window.plumbline;
  const cfg = P.pageConfig();
  const STRENGTHS = ["slight", "clear", "strong"];
  const MOVE_ON_CODES = new Set(["already_submitted", "skipped", "lease_expired", "not_assigned", "not_found"]);

  const $ = (id) => document.getElementById(id);
  const nodes = {
    alert: $("alert"),
    loading: $("loading"),
    empty: $("empty"),
    task: $("task"),
    taskId: $("task-id"),
    prompt: $("prompt"),
    responses: $("responses"),
    pairwise: $("pairwise"),
    kway: $("kway"),
    ranking: $("ranking"),
    pool: $("pool"),
    criteria: $("criteria"),
    rationale: $("rationale"),
    submit: $("submit"),
    skip: $("skip"),
    help: $("help"),
    tieButton: $("tie-button"),
  };

  const state = { task: null, order: [], ranking: [], strength: "", tieNext: false, startedAt: 0, busy: false };

  /* ---------- ranking state ---------- */

  const isRanked = (id) => state.ranking.some((group) => group.includes(id));
  const unranked = () => state.order.filter((id) => !isRanked(id));
  const label = (id) => state.order.indexOf(id) + 1;

  function removeFromRanking(id) {
    state.ranking = state.ranking.map((group) => group.filter((x) => x !== id)).filter((group) => group.length);
  }

  function choosePair(which) {
    const [a, b] = state.order;
    if (which === "tie") {
      if (!cfg.tiesAllowed) return flash("This project does not allow ties.");
      state.ranking = [[a, b]];
    } else {
      state.ranking = which === 0 ? [[a], [b]] : [[b], [a]];
    }
    render();
  }

  function rankByNumber(n) {
    const id = state.order[n - 1];
    if (id === undefined) return;
    if (isRanked(id)) return flash(`Response ${n} is already ranked. Backspace undoes the last step.`);
    if (state.tieNext && state.ranking.length && cfg.tiesAllowed) state.ranking[state.ranking.length - 1].push(id);
    else state.ranking.push([id]);
    state.tieNext = false;
    const rest = unranked();
    if (rest.length === 1) state.ranking.push(rest); // the last one can only go last
    render();
  }

  function tieRest() {
    const rest = unranked();
    if (!rest.length) return;
    if (rest.length > 1 && !cfg.tiesAllowed) return flash("This project does not allow ties.");
    state.ranking.push(rest);
    render();
  }

  function undo() {
    if (state.tieNext) {
      state.tieNext = false;
    } else if (state.ranking.length) {
      const last = state.ranking[state.ranking.length - 1];
      last.pop();
      if (!last.length) state.ranking.pop();
    }
    render();
  }

  function setStrength(value) {
    state.strength = state.strength === value ? "" : value;
    render();
  }

  /* ---------- rendering ---------- */

  function renderTask(task) {
    state.task = task;
    state.order = task.responses.map((r) => r.id);
    state.ranking = [];
    state.strength = "";
    state.tieNext = false;
    state.startedAt = performance.now();
    nodes.taskId.textContent = `task #${task.id}`;
    nodes.task.dataset.taskId = String(task.id);
    P.renderConversation(nodes.prompt, task);

    const k = task.responses.length;
    nodes.responses.className = `responses ${k === 2 ? "responses-pair" : "responses-stacked"}`;
    nodes.responses.replaceChildren(
      ...task.responses.map((r, i) =>
        P.el("article", { className: "card response-card", dataset: { id: String(r.id) } }, [
          P.el("header", { className: "response-head" }, [
            P.el("span", { className: "response-num", text: String(i + 1) }),
            P.el("span", { className: "response-title", text: `Response ${i + 1}` }),
            P.el("span", { className: "response-badge", "aria-live": "polite" }),
          ]),
          P.sanitizedHtml(r.html),
        ]),
      ),
    );
    nodes.pairwise.hidden = k !== 2;
    nodes.kway.hidden = k === 2;
    if (nodes.tieButton) nodes.tieButton.disabled = !cfg.tiesAllowed;
    nodes.rationale.value = "";
    for (const box of document.querySelectorAll('input[name="flag"]')) box.checked = false;
    buildCriteria(task);
    nodes.loading.hidden = true;
    nodes.empty.hidden = true;
    nodes.task.hidden = false;
    render();
    window.scrollTo({ top: 0 });
  }

  function buildCriteria(task) {
    if (!nodes.criteria) return;
    const rating = cfg.criteriaMode === "rating";
    const k = task.responses.length;
    const choices = rating ? [1, 2, 3, 4, 5, 6, 7] : Array.from({ length: k }, (_, i) => i + 1);
    const head = P.el("tr", {}, [
      P.el("th", { text: "Criterion" }),
      ...task.responses.map((_, i) => P.el("th", { text: `Response ${i + 1}` })),
    ]);
    const rows = cfg.criteria.map((name) =>
      P.el("tr", {}, [
        P.el("th", { scope: "row", text: name }),
        ...task.responses.map((r, i) => {
          const select = P.el(
            "select",
            { "aria-label": `${name}: response ${i + 1}`, dataset: { criterion: name, id: String(r.id) } },
            [
              P.el("option", { value: "", text: "–" }),
              ...choices.map((c) => P.el("option", { value: String(c), text: rating ? String(c) : ordinal(c) })),
            ],
          );
          return P.el("td", {}, [select]);
        }),
      ]),
    );
    nodes.criteria.replaceChildren(P.el("thead", {}, [head]), P.el("tbody", {}, rows));
  }

  function ordinal(n) {
    return `${n}${n === 1 ? "st" : n === 2 ? "nd" : n === 3 ? "rd" : "th"}`;
  }

  function rankOf(id) {
    let before = 0;
    for (const group of state.ranking) {
      if (group.includes(id)) return { rank: before + 1, tied: group.length > 1 };
      before += group.length;
    }
    return null;
  }

  function render() {
    if (!state.task) return;
    const pair = state.order.length === 2;
    const complete = unranked().length === 0;
    for (const card of nodes.responses.querySelectorAll(".response-card")) {
      const id = Number(card.dataset.id);
      const info = rankOf(id);
      const badge = card.querySelector(".response-badge");
      let text = "";
      let tone = "";
      if (info && pair && complete) {
        if (info.tied) [text, tone] = ["Tie", "tie"];
        else if (info.rank === 1) [text, tone] = ["Better", "best"];
        else [text, tone] = ["Worse", "worse"];
      } else if (info) {
        text = info.tied ? `#${info.rank} (tie)` : `#${info.rank}`;
        tone = info.rank === 1 ? "best" : "ranked";
      }
      badge.textContent = text;
      card.dataset.tone = tone;
    }
    if (pair) {
      const first = state.ranking[0] || [];
      const choice = !complete ? null : first.length > 1 ? "tie" : String(state.order.indexOf(first[0]));
      for (const button of nodes.pairwise.querySelectorAll("[data-choice]")) {
        button.setAttribute("aria-pressed", String(button.dataset.choice === choice));
      }
    } else {
      renderRankLists();
    }
    for (const button of document.querySelectorAll("[data-strength]")) {
      button.setAttribute("aria-pressed", String(button.dataset.strength === state.strength));
    }
    nodes.kway.classList.toggle("tie-next", state.tieNext);
  }

  function chip(id) {
    const response = state.task.responses.find((r) => r.id === id);
    const snippet = response.text.length > 70 ? `${response.text.slice(0, 70)}…` : response.text;
    return P.el("span", { className: "chip", draggable: "true", dataset: { id: String(id) } }, [
      P.el("span", { className: "response-num", text: String(label(id)) }),
      P.el("span", { className: "chip-text", text: snippet }),
    ]);
  }

  function renderRankLists() {
    nodes.ranking.replaceChildren(
      ...state.ranking.map((group, index) =>
        P.el("li", { className: "rank-group", dataset: { group: String(index) } }, group.map(chip)),
      ),
    );
    nodes.pool.replaceChildren(...unranked().map((id) => P.el("li", {}, [chip(id)])));
  }

  /* ---------- drag and drop (K > 2) ---------- */

  let dragged = null;

  function dropTarget(event) {
    const li = event.target.closest && event.target.closest("li.rank-group");
    if (!li) return { group: null, where: "end" };
    const box = li.getBoundingClientRect();
    const y = (event.clientY - box.top) / Math.max(box.height, 1);
    const where = y < 0.3 ? "before" : y > 0.7 || !cfg.tiesAllowed ? (y < 0.5 ? "before" : "after") : "join";
    return { group: state.ranking[Number(li.dataset.group)], where, li };
  }

  function clearDropMarks() {
    for (const li of nodes.ranking.querySelectorAll("li")) li.classList.remove("drop-before", "drop-after", "drop-join");
    nodes.ranking.classList.remove("drop-end");
  }

  function bindDragAndDrop() {
    document.addEventListener("dragstart", (event) => {
      const node = event.target.closest && event.target.closest(".chip");
      if (!node) return;
      dragged = Number(node.dataset.id);
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", node.dataset.id);
    });
    document.addEventListener("dragend", () => {
      dragged = null;
      clearDropMarks();
    });
    nodes.ranking.addEventListener("dragover", (event) => {
      if (dragged === null) return;
      event.preventDefault();
      clearDropMarks();
      const target = dropTarget(event);
      if (target.li) target.li.classList.add(`drop-${target.where}`);
      else nodes.ranking.classList.add("drop-end");
    });
    nodes.ranking.addEventListener("drop", (event) => {
      if (dragged === null) return;
      event.preventDefault();
      const target = dropTarget(event);
      const id = dragged;
      clearDropMarks();
      if (target.group && target.group.length === 1 && target.group[0] === id) return;
      // Groups are rebuilt by removeFromRanking, so find the target again through a response it holds.
      const anchor = target.group ? target.group.find((x) => x !== id) : undefined;
      removeFromRanking(id);
      const index = anchor === undefined ? -1 : state.ranking.findIndex((group) => group.includes(anchor));
      if (index < 0) state.ranking.push([id]);
      else if (target.where === "join") state.ranking[index].push(id);
      else state.ranking.splice(target.where === "before" ? index : index + 1, 0, [id]);
      render();
    });
    nodes.pool.addEventListener("dragover", (event) => {
      if (dragged !== null) event.preventDefault();
    });
    nodes.pool.addEventListener("drop", (event) => {
      if (dragged === null) return;
      event.preventDefault();
      removeFromRanking(dragged);
      render();
    });
    nodes.pool.addEventListener("click", (event) => {
      const node = event.target.closest(".chip");
      if (node) rankByNumber(label(Number(node.dataset.id)));
    });
  }

  /* ---------- submit, skip, next ---------- */

  function flash(message) {
    P.showAlert(nodes.alert, message);
  }

  function collectCriteria() {
    if (!nodes.criteria) return {};
    const out = {};
    const rating = cfg.criteriaMode === "rating";
    for (const name of cfg.criteria) {
      const selects = Array.from(nodes.criteria.querySelectorAll("select")).filter((s) => s.dataset.criterion === name);
      const filled = selects.filter((s) => s.value !== "");
      if (!filled.length) continue;
      if (rating) {
        out[name] = { ratings: Object.fromEntries(filled.map((s) => [s.dataset.id, Number(s.value)])) };
        continue;
      }
      if (filled.length !== selects.length) throw new Error(`Rank every response for “${name}”, or leave it blank.`);
      const ranks = [...new Set(filled.map((s) => Number(s.value)))].sort((a, b) => a - b);
      const groups = ranks.map((rank) => filled.filter((s) => Number(s.value) === rank).map((s) => Number(s.dataset.id)));
      if (!cfg.tiesAllowed && groups.some((g) => g.length > 1)) {
        throw new Error(`Give each response a different rank for “${name}”: this project does not allow ties.`);
      }
      out[name] = { ranking: groups.map((g) => (g.length === 1 ? g[0] : g)) };
    }
    return out;
  }

  function collect() {
    const rest = unranked();
    if (rest.length === 1 && state.order.length > 2) state.ranking.push(rest);
    if (unranked().length) {
      throw new Error(
        state.order.length === 2
          ? "Choose the better response first: press 1, 2, or 0 for a tie."
          : "Rank every response first: press their numbers in order of preference.",
      );
    }
    const tie = state.ranking.length === 1;
    return {
      ranking: state.ranking.map((g) => (g.length === 1 ? g[0] : g)),
      strength: tie ? "" : state.strength,
      criteria: collectCriteria(),
      rationale: nodes.rationale.value,
      flags: Array.from(document.querySelectorAll('input[name="flag"]:checked'), (box) => box.value),
      time_spent_ms: Math.round(performance.now() - state.startedAt),
    };
  }

  function setBusy(busy) {
    state.busy = busy;
    nodes.submit.disabled = busy;
    nodes.skip.disabled = busy;
    nodes.task.classList.toggle("busy", busy);
  }

  function loadNext() {
    return P.loadNextTask(cfg, "comparison", state, nodes, renderTask);
  }

  async function submit() {
    if (state.busy || !state.task) return;
    let body;
    try {
      body = collect();
    } catch (err) {
      render();
      return flash(err.message);
    }
    render();
    const taskId = state.task.id;
    setBusy(true);
    try {
      const headers = { "Idempotency-Key": P.idempotency.get("judgment", taskId) };
      await P.api("POST", `/api/v1/tasks/${taskId}/judgments/`, { body, headers });
      P.idempotency.clear("judgment", taskId);
      P.hideAlert(nodes.alert);
      await loadNext();
    } catch (err) {
      if (MOVE_ON_CODES.has(err.code)) {
        P.idempotency.clear("judgment", taskId);
        P.showAlert(nodes.alert, `${err.message} Moving on to the next task.`, err.code);
        await loadNext();
      } else {
        P.showAlert(nodes.alert, err.message, err.code);
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
      P.hideAlert(nodes.alert);
      await loadNext();
    } catch (err) {
      P.showAlert(nodes.alert, err.message, err.code);
      if (MOVE_ON_CODES.has(err.code) || err.code.startsWith("already_")) await loadNext();
    } finally {
      setBusy(false);
    }
  }

  /* ---------- keyboard ---------- */

  function onKey(event) {
    if (event.key === "Escape") {
      if (!nodes.help.hidden) nodes.help.hidden = true;
      else if (P.isTyping(event)) event.target.blur();
      return;
    }
    if (P.isTyping(event)) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === nodes.rationale) {
        event.preventDefault();
        submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter" && event.target instanceof HTMLElement && event.target.closest("a, button")) return;
    if (event.key === "?") {
      event.preventDefault();
      nodes.help.hidden = !nodes.help.hidden;
      return;
    }
    if (!nodes.help.hidden || !state.task || state.busy) return;
    const digit = /^(?:Digit|Numpad)([0-9])$/.exec(event.code);
    if (digit) {
      event.preventDefault();
      const n = Number(digit[1]);
      if (event.shiftKey) {
        if (n >= 1 && n <= 3) setStrength(STRENGTHS[n - 1]);
      } else if (state.order.length === 2) {
        if (n === 0) choosePair("tie");
        else if (n <= 2) choosePair(n - 1);
      } else if (n === 0) {
        tieRest();
      } else {
        rankByNumber(n);
      }
      return;
    }
    if (event.key === "=" && state.order.length > 2) {
      state.tieNext = state.ranking.length > 0 && cfg.tiesAllowed;
      render();
    } else if (event.key === "Backspace") {
      event.preventDefault();
      undo();
    } else if (event.key === "Enter") {
      event.preventDefault();
      submit();
    } else if (event.key === "s" || event.key === "S") {
      event.preventDefault();
      skip();
    }
  }

  /* ---------- wiring ---------- */

  document.addEventListener("keydown", onKey);
  for (const button of document.querySelectorAll("[data-choice]")) {
    button.addEventListener("click", () => {
      choosePair(button.dataset.choice === "tie" ? "tie" : Number(button.dataset.choice));
      button.blur(); // keep Enter meaning "submit", not "press this button again"
    });
  }
  for (const button of document.querySelectorAll("[data-strength]")) {
    button.addEventListener("click", () => {
      setStrength(button.dataset.strength);
      button.blur();
    });
  }
  nodes.submit.addEventListener("click", submit);
  nodes.skip.addEventListener("click", skip);
  nodes.help.addEventListener("click", (event) => {
    if (event.target === nodes.help) nodes.help.hidden = true;
  });
  P.bindToggles();
  bindDragAndDrop();
  loadNext();
})();
