/* Response-time charts of the numbers pages, drawn with the vendored Chart.js (no CDN).
 * Reads the figures the page put in <script type="application/json" id="wl-response-charts">
 * (admin/response_charts.py) and draws into the canvases that exist on the page. The tables
 * beside each chart carry the same figures for screen readers and for when scripts are off. */
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("wl-response-charts");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var common = { responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { position: "bottom" } } };
    function minutes(title) {
      return { beginAtZero: true, title: { display: true, text: title } };
    }
    var reps = document.getElementById("wl-chart-reps");
    if (reps && data.reps) {
      new window.Chart(reps, { type: "bar", options: Object.assign({}, common, { scales: { y: minutes("minutes") } }),
        data: { labels: data.reps.labels, datasets: [
          { label: "median", data: data.reps.median, backgroundColor: "#79aec8" },
          { label: "90th percentile", data: data.reps.p90, backgroundColor: "#ba2121" } ] } });
    }
    var breaches = document.getElementById("wl-chart-breaches");
    if (breaches && data.breaches) {
      new window.Chart(breaches, { type: "bar", options: Object.assign({}, common, {
          scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "breaches" } } } }),
        data: { labels: data.breaches.labels, datasets: [
          { label: "SLA breaches", data: data.breaches.counts, backgroundColor: "#ba2121" } ] } });
    }
    var daily = document.getElementById("wl-chart-daily");
    if (daily && data.daily) {
      new window.Chart(daily, { type: "line", options: Object.assign({}, common, { spanGaps: true, scales: { y: minutes("minutes") } }),
        data: { labels: data.daily.labels, datasets: [
          { label: "median first response", data: data.daily.wall, borderColor: "#417690", backgroundColor: "#417690" },
          { label: "median, business hours", data: data.daily.business, borderColor: "#c9a227", backgroundColor: "#c9a227" } ] } });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
