// Telephony pages: times in state, waits and countdowns tick every second between the
// server's refreshes. The server's clock is the one that counts: each [data-now] container
// carries it, so a browser clock that is off (or a test's frozen clock) does not matter.
(function () {
  "use strict";
  function format(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function stamp() {  // containers drawn since the last look start their clock now
    document.querySelectorAll("[data-now]").forEach(function (el) {
      if (!el.loadedAt) { el.loadedAt = Date.now(); }
    });
  }
  function serverNow(el) {
    var box = el.closest("[data-now]");
    if (!box) { return Date.now(); }
    return Date.parse(box.getAttribute("data-now")) + (Date.now() - (box.loadedAt || Date.now()));
  }
  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = format((serverNow(el) - Date.parse(el.getAttribute("data-since"))) / 1000);
    });
    document.querySelectorAll("[data-until]").forEach(function (el) {
      el.textContent = format((Date.parse(el.getAttribute("data-until")) - serverNow(el)) / 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { stamp(); setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSettle", stamp);
  // Forms that destroy something ask first.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
