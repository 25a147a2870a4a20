/*
 * Keeps the job list's queued and running rows current: every 3 s each such row (at most 25) is refreshed from
 * GET /api/v1/jobs/<id>/ (status badge, progress bar, step / total). Rows that finish stop being polled; when none
 * is left, polling stops. Values reach the DOM through textContent and style widths only.
 */
(function () {
  "use strict";

  const POLL_MS = 3000;
  const MAX_ROWS = 25;
  const LIVE = new Set(["queued", "running"]);

  function liveRows() {
    return Array.from(document.querySelectorAll("#job-table tr[data-job-id]"))
      .filter((row) => LIVE.has(row.dataset.status))
      .slice(0, MAX_ROWS);
  }

  function render(row, job) {
    row.dataset.status = job.status;
    const badge = row.querySelector(".status-cell .status");
    badge.textContent = job.status;
    badge.className = `status status-${job.status}`;
    const p = job.progress;
    const filled = job.status === "succeeded" ? 1 : p.fraction || 0;
    const bar = row.querySelector(".progress");
    bar.className = `progress progress-${job.status}`;
    bar.setAttribute("aria-valuenow", String(Math.round(filled * 100)));
    bar.firstElementChild.style.width = `${(filled * 100).toFixed(1)}%`;
    row.querySelector(".progress-steps").textContent = p.total ? `${p.step} / ${p.total}` : String(p.step);
  }

  async function refresh(row) {
    const api = document.getElementById("job-table").dataset.api;
    const resp = await fetch(`${api}${row.dataset.jobId}/`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!resp.ok || !(resp.headers.get("Content-Type") || "").includes("application/json")) throw new Error(`HTTP ${resp.status}`);
    render(row, await resp.json());
  }

  async function tick() {
    const rows = liveRows();
    if (!rows.length) return;
    try {
      await Promise.all(rows.map(refresh));
    } catch (err) {
      window.setTimeout(tick, POLL_MS * 5); // the server or the session is gone for now: back off
      return;
    }
    window.setTimeout(tick, POLL_MS);
  }

  if (liveRows().length) window.setTimeout(tick, POLL_MS);
})();
