/*
 * The model page:
 *   - one Plotly chart per training metric of the producing job, with the model's evaluation results drawn on the
 *     chart of the same quantity (orange diamonds with their 95% interval) or, when measured at several checkpoints,
 *     on charts of their own;
 *   - while the newest samples job is queued or running, GET /api/v1/jobs/<id>/ every 3 s (status and progress
 *     message), then reload once so the server renders the samples side by side.
 * Server data reaches the DOM through textContent and Plotly's data arrays only.
 */
(function () {
  "use strict";

  const POLL_MS = 3000;
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  const $ = (id) => document.getElementById(id);
  const read = (id) => JSON.parse($(id).textContent);
  // Plotly renders a few HTML tags in its labels; names come from users, so their markup is shown as text.
  const plain = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  const LAYOUT = {
    margin: { l: 56, r: 16, t: 40, b: 40 },
    height: 260,
    xaxis: { title: { text: "step" }, zeroline: false },
    yaxis: { zeroline: false, automargin: true },
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    showlegend: false,
  };

  function evalTrace(points) {
    const hasCi = points.some((p) => p.ci_low !== null && p.ci_high !== null);
    const trace = {
      x: points.map((p) => p.step),
      y: points.map((p) => p.value),
      text: points.map((p) => plain(`${p.label} (run #${p.run})`)),
      mode: "markers",
      type: "scatter",
      name: "evaluation",
      hovertemplate: "%{text}<br>step %{x}: %{y:.4g}<extra></extra>",
      marker: { symbol: "diamond", size: 11, color: "#c77c02", line: { color: "#fff", width: 1 } },
    };
    if (hasCi) {
      trace.error_y = {
        type: "data",
        symmetric: false,
        array: points.map((p) => (p.ci_high === null ? 0 : p.ci_high - p.value)),
        arrayminus: points.map((p) => (p.ci_low === null ? 0 : p.value - p.ci_low)),
        color: "#c77c02",
      };
    }
    return trace;
  }

  function chart(holder, title, traces, range) {
    const div = document.createElement("div");
    div.className = "chart";
    div.dataset.metric = title;
    holder.appendChild(div);
    const layout = { ...LAYOUT, title: { text: plain(title), font: { size: 14 } } };
    if (range) layout.xaxis = { ...LAYOUT.xaxis, range };
    window.Plotly.newPlot(div, traces, layout, { displaylogo: false, responsive: true });
    return div;
  }

  function drawCharts() {
    const holder = $("model-charts");
    if (!holder) return;
    if (!window.Plotly) {
      holder.textContent = "Charts need plotly.min.js, which did not load.";
      return;
    }
    const data = read("model-chart-data");
    const overlays = new Map();
    const own = new Map();
    for (const point of data.evals) {
      const bucket = point.chart ? overlays : own;
      const key = point.chart || point.label;
      if (!bucket.has(key)) bucket.set(key, []);
      bucket.get(key).push(point);
    }
    for (const [name, series] of Object.entries(data.series)) {
      const line = {
        x: series.step,
        y: series.value,
        mode: series.step.length <= 60 ? "lines+markers" : "lines",
        name: plain(name),
        line: { width: 2, color: "#3b5bdb" },
      };
      const traces = [line];
      if (overlays.has(name)) traces.push(evalTrace(overlays.get(name)));
      chart(holder, name, traces);
    }
    // An evaluation without a matching curve gets a chart only when it was measured at several checkpoints
    // (a single result is in the evaluations table); its x axis spans the training steps, to read beside them.
    const steps = Object.values(data.series).flatMap((s) => s.step);
    const range = steps.length ? [Math.min(...steps), Math.max(...steps)] : null;
    for (const [label, points] of own) {
      if (new Set(points.map((p) => p.step)).size < 2) continue;
      const xs = points.map((p) => p.step);
      const span = range ? [Math.min(range[0], ...xs), Math.max(range[1], ...xs)] : null;
      chart(holder, `evaluation: ${label}`, [evalTrace(points)], span);
    }
    if (!holder.children.length) {
      holder.textContent = "No training metrics recorded; this model's evaluation results are in the table above.";
    }
  }

  // --- the samples job -------------------------------------------------------------------------------------------

  async function poll(config) {
    let job;
    try {
      const resp = await fetch(config.api, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      job = await resp.json();
    } catch (err) {
      $("samples-progress").textContent = `live updates paused (${err.message}); reload the page to retry`;
      return;
    }
    const badge = $("samples-job-status");
    badge.textContent = job.status;
    badge.className = `status status-${job.status}`;
    const p = job.progress;
    $("samples-progress").textContent = p.total ? `${p.step} / ${p.total} ${p.message || ""}` : p.message || "";
    if (FINISHED.has(job.status)) {
      window.location.reload();
      return;
    }
    window.setTimeout(() => poll(config), POLL_MS);
  }

  drawCharts();
  const samples = read("model-samples-config");
  if (samples.job && !samples.finished) window.setTimeout(() => poll(samples), POLL_MS);
})();
