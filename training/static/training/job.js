/*
 * The live job page. The server renders the job once; this script keeps it current from the JSON API:
 *   - GET /api/v1/jobs/<id>/ every 2 s while the job is queued or running (status, progress, ETA, log tail, error),
 *     stopping as soon as the job has finished (then the page reloads once to show reports and artifacts);
 *   - GET /api/v1/jobs/<id>/metrics/?since=<last id> on the same beat, appending the new points to one Plotly chart
 *     per metric name;
 *   - Cancel / Retry / Clone buttons POST to the API with the session's CSRF token.
 * Everything from the server reaches the DOM through textContent or Plotly's data arrays, never as HTML.
 */
(function () {
  "use strict";

  const POLL_MS = 2000;
  const MAX_BACKOFF_MS = 30000;
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  const METRICS_PAGE = 50000; // the API's page size; a full page means there is more to fetch

  const config = JSON.parse(document.getElementById("job-page-config").textContent);
  let job = JSON.parse(document.getElementById("job-payload").textContent);
  const $ = (id) => document.getElementById(id);

  const charts = new Map(); // metric name -> chart div
  let lastMetricId = 0;
  let polling = false;
  let failures = 0;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function api(method, url) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      init.headers["X-CSRFToken"] = csrfToken();
      init.headers["Content-Type"] = "application/json";
      init.body = "{}";
    }
    const resp = await fetch(url, init);
    const type = resp.headers.get("Content-Type") || "";
    if (!type.includes("application/json")) {
      throw new Error(resp.redirected ? "Your session has ended: reload the page." : `HTTP ${resp.status}`);
    }
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.detail || `HTTP ${resp.status}`);
    return data;
  }

  // --- formatting ------------------------------------------------------------------------------------------

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
    if (m) return `${m} min ${String(sec).padStart(2, "0")} s`;
    return `${sec} s`;
  }

  function clock(iso, withDate) {
    if (!iso) return "—";
    const d = new Date(iso);
    return withDate ? d.toLocaleString() : d.toLocaleTimeString();
  }

  // --- rendering the job's state ---------------------------------------------------------------------------

  function renderJob() {
    const status = $("job-status");
    status.textContent = job.status;
    status.className = `status status-${job.status}`;
    $("job-stopping").hidden = !(job.cancel_requested && !FINISHED.has(job.status));

    const p = job.progress;
    const fraction = p.fraction === null || p.fraction === undefined ? 0 : p.fraction;
    // A succeeded job is done even when its runner's total was only an estimate.
    const filled = job.status === "succeeded" ? 1 : fraction;
    const bar = $("job-progress");
    bar.className = `progress progress-lg progress-${job.status}`;
    bar.firstElementChild.style.width = `${(filled * 100).toFixed(1)}%`;
    bar.setAttribute("aria-valuenow", String(Math.round(filled * 100)));
    $("progress-steps").textContent = p.total ? `${p.step} / ${p.total}` : String(p.step);
    $("progress-percent").textContent = p.total ? `(${(fraction * 100).toFixed(1)}%)` : "";
    $("progress-message").textContent = p.message || "";
    $("progress-eta").textContent = p.eta_seconds !== null && p.eta_seconds !== undefined ? `ETA ${duration(p.eta_seconds)}` : "";
    $("job-duration").textContent = job.duration_seconds !== null ? `ran ${duration(job.duration_seconds)}` : "";

    $("meta-attempt").textContent = String(job.attempt);
    $("meta-worker").textContent = job.worker_host ? `${job.worker_host}${job.worker_pid ? ` (pid ${job.worker_pid})` : ""}` : "—";
    $("meta-heartbeat").textContent = clock(job.heartbeat_at, false);
    $("meta-started").textContent = clock(job.started_at, true);
    $("meta-finished").textContent = clock(job.finished_at, true);

    $("error-card").hidden = !job.error_message;
    $("error-message").textContent = job.error_message || "";

    renderLog(job.log_tail || "");
    renderButtons();
  }

  function renderLog(text) {
    const log = $("job-log");
    if (log.textContent === text) return;
    // Follow the tail unless the reader scrolled up to read something.
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    log.textContent = text;
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function renderButtons() {
    const finished = FINISHED.has(job.status);
    document.querySelector('[data-action="cancel"]').hidden = finished;
    document.querySelector('[data-action="retry"]').hidden = !(job.status === "failed" || job.status === "cancelled");
  }

  // --- metric charts -----------------------------------------------------------------------------------------

  function chartFor(name) {
    let div = charts.get(name);
    if (div) return div;
    div = document.createElement("div");
    div.className = "chart";
    div.dataset.metric = name;
    $("charts").appendChild(div);
    charts.set(name, div);
    const trace = { x: [], y: [], mode: "lines", name, line: { width: 2, color: "#3b5bdb" } };
    const layout = {
      title: { text: name, font: { size: 14 } },
      margin: { l: 56, r: 16, t: 40, b: 40 },
      height: 260,
      xaxis: { title: { text: "step" }, zeroline: false },
      yaxis: { zeroline: false, automargin: true },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
    };
    window.Plotly.newPlot(div, [trace], layout, { displaylogo: false, responsive: true });
    return div;
  }

  function appendSeries(series) {
    const names = Object.keys(series);
    if (!names.length) return;
    if (!window.Plotly) {
      $("metrics-empty").textContent = "Charts need plotly.min.js, which did not load.";
      return;
    }
    $("metrics-empty").hidden = true;
    for (const name of names) {
      const div = chartFor(name);
      window.Plotly.extendTraces(div, { x: [series[name].step], y: [series[name].value] }, [0]);
      if (div.data[0].x.length <= 60) window.Plotly.restyle(div, { mode: "lines+markers" }, [0]);
      else if (div.data[0].mode !== "lines") window.Plotly.restyle(div, { mode: "lines" }, [0]);
    }
  }

  let metricsInFlight = null;

  function pollMetrics() {
    // One fetch at a time: two overlapping ones would append the same points twice.
    if (!metricsInFlight) metricsInFlight = fetchMetrics().finally(() => { metricsInFlight = null; });
    return metricsInFlight;
  }

  async function fetchMetrics() {
    for (;;) {
      const data = await api("GET", `${config.api.metrics}?since=${lastMetricId}`);
      const count = Object.values(data.series).reduce((n, s) => n + s.step.length, 0);
      lastMetricId = data.last_id;
      appendSeries(data.series);
      if (count < METRICS_PAGE) return;
    }
  }

  // --- the corpus funnel ------------------------------------------------------------------------------------

  function drawFunnel() {
    const holder = $("funnel-chart");
    const source = $("funnel-data");
    if (!holder || !source || !window.Plotly) return;
    const data = JSON.parse(source.textContent);
    const traces = [
      { type: "bar", name: "documents", x: data.steps, y: data.documents, marker: { color: "#3b5bdb" } },
      { type: "bar", name: "bytes", x: data.steps, y: data.bytes, marker: { color: "#c77c02" }, xaxis: "x2", yaxis: "y2" },
    ];
    const layout = {
      height: 320,
      margin: { l: 60, r: 20, t: 40, b: 90 },
      showlegend: false,
      grid: { rows: 1, columns: 2, pattern: "independent" },
      annotations: [
        { text: "documents after each step", x: 0.22, xref: "paper", y: 1.1, yref: "paper", showarrow: false },
        { text: "bytes after each step", x: 0.78, xref: "paper", y: 1.1, yref: "paper", showarrow: false },
      ],
      xaxis: { tickangle: -30 },
      xaxis2: { tickangle: -30 },
      yaxis2: { tickformat: ".3s" },
    };
    window.Plotly.newPlot(holder, traces, layout, { displaylogo: false, responsive: true });
  }

  // --- polling -------------------------------------------------------------------------------------------------

  async function tick() {
    try {
      job = await api("GET", config.api.detail);
      renderJob();
      await pollMetrics();
      failures = 0;
    } catch (err) {
      failures += 1;
      showError(`Live updates paused: ${err.message}`);
    }
    if (FINISHED.has(job.status)) {
      polling = false;
      // The finished page has reports, results and artifacts the API poll does not draw: load it once.
      if (!config.finished) window.location.reload();
      return;
    }
    const delay = failures ? Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** failures) : POLL_MS;
    window.setTimeout(tick, delay);
  }

  function startPolling() {
    if (polling) return;
    polling = true;
    config.finished = false;
    window.setTimeout(tick, POLL_MS);
  }

  // --- actions ---------------------------------------------------------------------------------------------------

  function showError(message) {
    const box = $("action-error");
    box.textContent = message;
    box.hidden = !message;
  }

  async function act(action, button) {
    showError("");
    button.disabled = true;
    try {
      const data = await api("POST", config.api[action]);
      if (action === "clone") {
        window.location.assign(config.jobUrlTemplate.replace("{id}", String(data.id)));
        return;
      }
      job = data;
      renderJob();
      if (!FINISHED.has(job.status)) startPolling();
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  }

  document.getElementById("job-actions").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) act(button.dataset.action, button);
  });

  function start() {
    renderButtons();
    const log = $("job-log");
    log.scrollTop = log.scrollHeight;
    drawFunnel();
    pollMetrics().catch((err) => showError(`Metrics could not be loaded: ${err.message}`));
    if (!FINISHED.has(job.status)) {
      polling = true;
      window.setTimeout(tick, POLL_MS);
    }
  }

  start();
})();
