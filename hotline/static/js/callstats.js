// The charts of the call-centre pages (call statistics, agents, forecast), drawn with ECharts
// (served from /static/vendor). Each chart's options come from the page (#chart-options), already
// in the user's language; reports.js does the period picker and the print button.
(function () {
  "use strict";
  var COLORS = ["#1e6b36", "#a61b14", "#b45309", "#1d4ed8", "#6d28d9", "#0e7490"];
  var charts = [];

  function draw() {
    var source = document.getElementById("chart-options");
    if (!source || !window.echarts) { return; }
    var options = JSON.parse(source.textContent);
    document.querySelectorAll(".chart[data-option]").forEach(function (el) {
      var option = options[el.getAttribute("data-option")];
      if (!option) { return; }
      option.color = option.color || COLORS;
      option.animation = false;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
    });
    document.documentElement.setAttribute("data-charts", "ready");
  }

  function resize() { charts.forEach(function (c) { c.resize(); }); }

  document.addEventListener("DOMContentLoaded", function () {
    draw();
    window.addEventListener("resize", resize);
    window.addEventListener("beforeprint", resize);
    window.addEventListener("afterprint", resize);
  });
})();
