/*
 * Shared helpers for the annotation pages: JSON API calls with the session's CSRF token, idempotency keys that
 * survive a reload, the API's {"detail", "code"} errors shown to the user, and safe DOM building.
 *
 * Text from users and models only ever reaches the page through textContent, or as HTML the server produced with
 * render_markdown (which escapes raw HTML and sanitizes the result). Nothing else is assigned to innerHTML.
 */
(function () {
  "use strict";

  class ApiError extends Error {
    constructor(message, code, status, data) {
      super(message);
      this.code = code;
      this.status = status;
      this.data = data || null;
    }
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function api(method, url, options) {
    const opts = options || {};
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    const init = { method, headers, credentials: "same-origin" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      throw new ApiError("The server could not be reached. Nothing was lost: try again.", "network", 0);
    }
    if (resp.status === 204) return { status: 204, data: null };
    const type = resp.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) {
      if (resp.redirected && resp.url.includes("/accounts/login/")) {
        throw new ApiError("Your session has ended. Reload the page to log in again.", "session_expired", 401);
      }
      throw new ApiError(`Unexpected answer from the server (HTTP ${resp.status}).`, "unexpected", resp.status);
    }
    const data = await resp.json();
    if (!resp.ok) {
      throw new ApiError(data.detail || `Request failed (HTTP ${resp.status}).`, data.code || "error", resp.status, data);
    }
    return { status: resp.status, data };
  }

  function randomKey() {
    // getRandomValues works on plain http too, unlike crypto.randomUUID.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* One key per task attempt, kept in sessionStorage so a retry after a lost answer or a reload replays, never doubles. */
  const idempotency = {
    get(scope, taskId) {
      const name = `plumbline:idem:${scope}:${taskId}`;
      let key = null;
      try {
        key = sessionStorage.getItem(name);
        if (!key) {
          key = randomKey();
          sessionStorage.setItem(name, key);
        }
      } catch (err) {
        key = key || randomKey();
      }
      return key;
    },
    clear(scope, taskId) {
      try {
        sessionStorage.removeItem(`plumbline:idem:${scope}:${taskId}`);
      } catch (err) {
        /* storage unavailable: nothing to clear */
      }
    },
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  /* Server-sanitized markdown (render_markdown output); the only string ever assigned to innerHTML. */
  function sanitizedHtml(html) {
    const node = el("div", { className: "markdown" });
    node.innerHTML = html;
    return node;
  }

  function renderConversation(container, task) {
    container.replaceChildren();
    const messages = task.messages_html || [];
    const single = !task.messages && messages.length === 1;
    for (const m of messages) {
      const block = el("div", { className: `message message-${m.role}` });
      if (!single) block.append(el("div", { className: "message-role", text: m.role }));
      block.append(sanitizedHtml(m.html));
      container.append(block);
    }
  }

  function showAlert(node, message, code) {
    if (!node) return;
    node.replaceChildren(el("strong", { text: message }));
    if (code && !["network", "unexpected"].includes(code)) node.append(el("span", { className: "alert-code", text: code }));
    node.hidden = false;
  }

  function hideAlert(node) {
    if (node) node.hidden = true;
  }

  function isTyping(event) {
    const t = event.target;
    return t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
  }

  function pageConfig() {
    const node = document.getElementById("page-config");
    return node ? JSON.parse(node.textContent) : {};
  }

  /*
   * Fetch the annotator's next task of a kind and hand it to render(data); on 204 show the "nothing left" state.
   * Shared by the comparison and demonstration pages (same API, same empty/error handling).
   */
  async function loadNextTask(cfg, kind, state, nodes, render) {
    if (!state.task) nodes.loading.hidden = false;
    try {
      const url = `/api/v1/projects/${cfg.project}/tasks/next/?kind=${kind}&render=html`;
      const { status, data } = await api("GET", url);
      if (status === 204) {
        state.task = null;
        nodes.task.hidden = true;
        nodes.loading.hidden = true;
        nodes.empty.hidden = false;
      } else {
        render(data);
      }
    } catch (err) {
      nodes.loading.hidden = true;
      showAlert(nodes.alert, `Could not load the next task: ${err.message}`, err.code);
    }
    refreshProgress(cfg.project, kind);
  }

  async function refreshProgress(projectId, kind) {
    try {
      const { data } = await api("GET", `/annotate/projects/${projectId}/progress/?kind=${kind}`);
      setProgress(data);
    } catch (err) {
      /* counts are advisory; a failed refresh keeps the last ones */
    }
  }

  function setProgress(counts) {
    for (const key of ["done", "remaining"]) {
      const node = document.querySelector(`[data-progress="${key}"]`);
      if (node && counts && Number.isFinite(counts[key])) node.textContent = String(counts[key]);
    }
  }

  function bindToggles(onToggle) {
    for (const button of document.querySelectorAll("[data-toggle]")) {
      button.addEventListener("click", () => {
        const target = document.getElementById(button.dataset.toggle);
        if (target) target.hidden = !target.hidden;
        if (onToggle) onToggle(button.dataset.toggle);
      });
    }
  }

  window.plumbline = {
    ApiError,
    api,
    idempotency,
    el,
    sanitizedHtml,
    renderConversation,
    showAlert,
    hideAlert,
    isTyping,
    pageConfig,
    refreshProgress,
    loadNextTask,
    setProgress,
    bindToggles,
  };
})();
