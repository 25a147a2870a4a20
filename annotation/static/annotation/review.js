/*
 * Review page: demonstrations by status from the API, the original response beside the edited text with a word diff,
 * and accept / reject with a comment. All text is shown through textContent; nothing here is parsed as HTML.
 */
(function () {
  "use strict";

  const P = window.plumbline;
  const cfg = P.pageConfig();
  const DIFF_MAX_CELLS = 4_000_000; // beyond this the LCS table is too big for a page; show the texts plainly

  const $ = (id) => document.getElementById(id);
  const nodes = { alert: $("alert"), loading: $("loading"), empty: $("empty"), list: $("review-list"), count: $("review-count") };
  let currentStatus = "pending";

  /* ---------- word diff (LCS over words and whitespace runs) ---------- */

  function diffTokens(a, b) {
    const n = a.length;
    const m = b.length;
    if ((n + 1) * (m + 1) > DIFF_MAX_CELLS) return null;
    const table = new Uint32Array((n + 1) * (m + 1));
    const at = (i, j) => i * (m + 1) + j;
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[at(i, j)] = a[i] === b[j] ? table[at(i + 1, j + 1)] + 1 : Math.max(table[at(i + 1, j)], table[at(i, j + 1)]);
      }
    }
    const left = [];
    const right = [];
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) {
        left.push([a[i], "same"]);
        right.push([b[j], "same"]);
        i++;
        j++;
      } else if (j < m && (i === n || table[at(i, j + 1)] >= table[at(i + 1, j)])) {
        right.push([b[j++], "ins"]);
      } else {
        left.push([a[i++], "del"]);
      }
    }
    return { left, right };
  }

  function diffBlock(parts) {
    const node = P.el("div", { className: "diff-text" });
    const runs = [];
    for (const [text, kind] of parts) {
      // Merge neighbours of one kind, so an inserted sentence is one highlight rather than one per word.
      if (runs.length && runs[runs.length - 1][1] === kind) runs[runs.length - 1][0] += text;
      else runs.push([text, kind]);
    }
    for (const [text, kind] of runs) {
      node.append(kind === "same" ? document.createTextNode(text) : P.el(kind, { text }));
    }
    return node;
  }

  function comparison(original, edited) {
    const diff = diffTokens(original.split(/(\s+)/), edited.split(/(\s+)/));
    const left = diff ? diffBlock(diff.left) : P.el("div", { className: "diff-text", text: original });
    const right = diff ? diffBlock(diff.right) : P.el("div", { className: "diff-text", text: edited });
    return P.el("div", { className: "diff-grid" }, [
      P.el("div", {}, [P.el("h4", { text: "Original response" }), left]),
      P.el("div", {}, [P.el("h4", { text: "Edited demonstration" }), right]),
    ]);
  }

  /* ---------- cards ---------- */

  function promptBlock(messages) {
    return P.el(
      "div",
      { className: "conversation conversation-plain" },
      messages.map((m) =>
        P.el("div", { className: `message message-${m.role}` }, [
          P.el("div", { className: "message-role", text: m.role }),
          P.el("div", { className: "plain-text", text: m.content }),
        ]),
      ),
    );
  }

  function card(item) {
    const comment = P.el("textarea", {
      rows: "2",
      className: "review-comment",
      placeholder: "Comment for the annotator (required when rejecting)",
      "aria-label": `Comment on demonstration ${item.id}`,
    });
    comment.value = item.review_comment || "";
    const status = P.el("span", { className: `badge badge-${item.review_status}`, text: item.review_status });
    const accept = P.el("button", { type: "button", className: "btn btn-primary btn-sm", dataset: { decision: "accepted" }, text: "Accept" });
    const reject = P.el("button", { type: "button", className: "btn btn-danger btn-sm", dataset: { decision: "rejected" }, text: "Reject" });
    const body = item.original_text
      ? comparison(item.original_text, item.text)
      : P.el("div", {}, [P.el("h4", { text: "Written from scratch" }), P.el("div", { className: "diff-text", text: item.text })]);
    const node = P.el("article", { className: "card review-card", dataset: { id: String(item.id) } }, [
      P.el("header", { className: "review-head" }, [
        P.el("strong", { text: `Demonstration #${item.id}` }),
        P.el("span", { className: "muted small", text: `by ${item.annotator} · task #${item.task} · ${new Date(item.created_at).toLocaleString()}` }),
        status,
      ]),
      P.el("h4", { text: "Prompt" }),
      promptBlock(item.messages),
      body,
      P.el("div", { className: "review-actions" }, [comment, P.el("div", { className: "review-buttons" }, [reject, accept])]),
    ]);
    for (const button of [accept, reject]) {
      button.addEventListener("click", () => decide(item, node, button.dataset.decision, comment, status));
    }
    return node;
  }

  async function decide(item, node, decision, comment, status) {
    const buttons = node.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    try {
      const { data } = await P.api("POST", `/api/v1/demonstrations/${item.id}/review/`, {
        body: { decision, comment: comment.value },
      });
      P.hideAlert(nodes.alert);
      status.textContent = data.review_status;
      status.className = `badge badge-${data.review_status}`;
      node.dataset.decided = data.review_status;
      node.classList.toggle("decided", data.review_status !== currentStatus);
      updateCount();
    } catch (err) {
      P.showAlert(nodes.alert, `Demonstration #${item.id}: ${err.message}`, err.code);
      if (err.code === "comment_required") comment.focus();
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  function updateCount() {
    const open = nodes.list.querySelectorAll(".review-card:not(.decided)").length;
    nodes.count.textContent = `${open} ${currentStatus}`;
  }

  async function load(status) {
    currentStatus = status;
    for (const tab of document.querySelectorAll("[data-status]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.status === status));
    }
    nodes.loading.hidden = false;
    nodes.empty.hidden = true;
    nodes.list.replaceChildren();
    try {
      const { data } = await P.api("GET", `/api/v1/projects/${cfg.project}/demonstrations/?status=${status}`);
      const items = Array.isArray(data) ? data : data.results || [];
      nodes.list.replaceChildren(...items.map(card));
      nodes.empty.hidden = items.length > 0;
      P.hideAlert(nodes.alert);
    } catch (err) {
      P.showAlert(nodes.alert, `Could not load demonstrations: ${err.message}`, err.code);
    } finally {
      nodes.loading.hidden = true;
      updateCount();
    }
  }

  for (const tab of document.querySelectorAll("[data-status]")) {
    tab.addEventListener("click", () => load(tab.dataset.status));
  }
  load("pending");
})();
