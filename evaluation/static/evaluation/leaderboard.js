/*
 * Evaluation pages' small scripts:
 *   - tables with class "sortable": clicking a header button sorts the body by that column (numbers by their
 *     data-value, text by its content; empty cells always last), clicking again reverses; aria-sort tells which;
 *   - the arena chart: Bradley–Terry ratings with their 95% intervals as asymmetric error bars (Plotly);
 *   - the red-team chart: attack-success rate per category (bars).
 * Data reaches the page through json_script blocks and goes into Plotly's arrays or textContent, never HTML.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const read = (id) => ($(id) ? JSON.parse($(id).textContent) : null);
  // Plotly renders a few HTML tags in its labels; model names come from users, so markup is shown as text.
  const plain = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  function cellKey(cell, numeric) {
    if (!cell) return null;
    const raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (raw === "" || raw === "—") return null;
    if (!numeric) return raw.toLowerCase();
    const value = parseFloat(raw);
    return Number.isNaN(value) ? null : value;
  }

  function sortBy(table, th) {
    const headers = Array.from(th.parentElement.children);
    const index = headers.indexOf(th);
    const numeric = th.dataset.sort === "num";
    // First click: best first (descending where higher is better, ascending where lower is); then alternate.
    const current = th.getAttribute("aria-sort");
    let direction;
    if (current === "descending") direction = "ascending";
    else if (current === "ascending") direction = "descending";
    else direction = th.dataset.higher === "0" ? "ascending" : numeric ? "descending" : "ascending";
    headers.forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", direction);
    const sign = direction === "ascending" ? 1 : -1;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const ka = cellKey(a.cells[index], numeric);
      const kb = cellKey(b.cells[index], numeric);
      if (ka === null && kb === null) return 0;
      if (ka === null) return 1;
      if (kb === null) return -1;
      if (ka < kb) return -sign;
      if (ka > kb) return sign;
      return 0;
    });
    rows.forEach((row) => body.appendChild(row));
  }

  document.querySelectorAll("table.sortable").forEach((table) => {
    const head = table.tHead.rows[table.tHead.rows.length - 1];
    head.addEventListener("click", (event) => {
      const th = event.target.closest("th[data-sort]");
      if (th) sortBy(table, th);
    });
  });

  const plotConfig = { displaylogo: false, responsive: true };

  function drawArena() {
    const data = read("arena-data");
    const holder = $("arena-chart");
    if (!data || !holder || !window.Plotly) return;
    const ordered = data.slice().reverse(); // best at the top of a horizontal chart
    const trace = {
      type: "scatter",
      mode: "markers",
      y: ordered.map((d) => plain(d.label)),
      x: ordered.map((d) => d.rating),
      text: ordered.map((d) => `${d.battles} votes · 95% [${Math.round(d.ci_low)}, ${Math.round(d.ci_high)}]`),
      hovertemplate: "%{y}<br>rating %{x:.0f}<br>%{text}<extra></extra>",
      marker: { size: 10, color: "#3b5bdb" },
      error_x: {
        type: "data",
        symmetric: false,
        array: ordered.map((d) => d.ci_high - d.rating),
        arrayminus: ordered.map((d) => d.rating - d.ci_low),
        color: "#3b5bdb",
        thickness: 2,
        width: 6,
      },
    };
    const layout = {
      height: Math.max(220, 70 + 38 * ordered.length),
      margin: { l: 16, r: 24, t: 36, b: 44 },
      title: { text: "Arena rating with 95% interval", font: { size: 14 } },
      xaxis: { title: { text: "rating (Elo scale)" }, zeroline: false },
      yaxis: { automargin: true },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
    };
    window.Plotly.newPlot(holder, [trace], layout, plotConfig);
  }

  function drawRedteam() {
    const data = read("redteam-data");
    const holder = $("redteam-chart");
    if (!data || !holder || !window.Plotly) return;
    const trace = {
      type: "bar",
      x: data.categories.map(plain),
      y: data.rates,
      text: data.rates.map((r, i) => `${(r * 100).toFixed(0)}% of ${data.n[i]}`),
      textposition: "outside",
      hovertemplate: "%{x}: %{y:.1%}<extra></extra>",
      marker: { color: data.rates.map((r) => (r > 0 ? "#c92a2a" : "#2b8a3e")) },
    };
    const layout = {
      height: 300,
      margin: { l: 56, r: 16, t: 36, b: 90 },
      title: { text: "Attack-success rate per category", font: { size: 14 } },
      yaxis: { tickformat: ".0%", range: [0, Math.max(0.1, ...data.rates) * 1.2], zeroline: false },
      xaxis: { tickangle: -25 },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
    };
    window.Plotly.newPlot(holder, [trace], layout, plotConfig);
  }

  function draw() {
    drawArena();
    drawRedteam();
  }

  // Plotly loads with defer before this script in document order, so it is normally there already.
  if (window.Plotly || document.readyState === "complete") draw();
  else window.addEventListener("load", draw);
})();
