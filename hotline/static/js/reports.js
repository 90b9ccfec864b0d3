// The charts of the statistics and assessment workspace, drawn with ECharts (served from
// /static/vendor). The figures come from the page (#report-data); a click on a bar, slice or
// point opens the orders behind it, as the links in the tables below each chart do.
(function () {
  "use strict";
  var COLORS = ["#a61b14", "#1d4ed8", "#1e6b36", "#b45309", "#6d28d9", "#0e7490", "#be185d", "#4b5563"];
  var charts = [];

  function open(url) { if (url) { window.location.href = url; } }

  function pie(rows) {
    return {
      color: COLORS, animation: false,
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"], avoidLabelOverlap: true,
        label: { formatter: "{b}\n{c}" },
        data: rows.filter(function (r) { return r.value > 0; })
          .map(function (r) { return { name: r.label, value: r.value, url: r.url }; })
      }]
    };
  }

  function bar(rows, name) {
    return {
      color: COLORS, animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 12, top: 16, bottom: 48, containLabel: true },
      xAxis: { type: "category", data: rows.map(function (r) { return r.label; }),
               axisLabel: { interval: rows.length > 12 ? 1 : 0, rotate: rows.length > 12 ? 45 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: name, barMaxWidth: 36,
                 data: rows.map(function (r) { return { value: r.value, url: r.url }; }) }]
    };
  }

  function trend(data, labels) {
    var points = data.points;
    return {
      color: ["#1d4ed8", "#a61b14"], animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 56, top: 36, bottom: 40, containLabel: true },
      xAxis: { type: "category", data: points.map(function (p) { return p.label; }) },
      yAxis: [
        { type: "value", name: labels.orders, minInterval: 1 },
        { type: "value", name: labels.rate, min: 0, max: 100, axisLabel: { formatter: "{value}%" } }
      ],
      series: [
        { type: "bar", name: labels.intake, barMaxWidth: 28,
          data: points.map(function (p) { return { value: p.intake, url: p.intake_url }; }) },
        { type: "line", name: labels.rate, yAxisIndex: 1, connectNulls: true, symbolSize: 6,
          data: points.map(function (p) {
            var r = p.on_time_completion_rate;
            return { value: r === null ? null : Math.round(r * 1000) / 10, url: p.due_url };
          }) }
      ]
    };
  }

  function draw() {
    var source = document.getElementById("report-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll(".chart[data-source]").forEach(function (el) {
      var key = el.getAttribute("data-source");
      var kind = el.getAttribute("data-chart");
      var option = kind === "trend" ? trend(data.trend, data.labels)
        : kind === "pie" ? pie(data[key]) : bar(data[key], data.labels.orders);
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      chart.on("click", function (params) { open(params.data && params.data.url); });
      charts.push(chart);
    });
    document.documentElement.setAttribute("data-charts", "ready");
  }

  function resize() { charts.forEach(function (c) { c.resize(); }); }

  // switch the period fields shown with the kind of period (all are shown without script)
  function picker() {
    var kind = document.getElementById("f-kind");
    if (!kind) { return; }
    var show = function () {
      document.querySelectorAll("[data-kind]").forEach(function (el) {
        el.hidden = el.getAttribute("data-kind") !== kind.value;
      });
    };
    kind.addEventListener("change", show);
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    picker();
    draw();
    window.addEventListener("resize", resize);
    // paper is narrower than the screen: redraw to fit before printing, and back after
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { resize(); window.print(); });
    });
  });
})();
