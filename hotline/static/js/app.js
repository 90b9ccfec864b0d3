// Every htmx request carries the page's CSRF token.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
});

// File pickers speak the page's language: the browser's own button ("Choose Files / No file chosen")
// follows the browser's language, so each file input is covered by a button and the chosen names,
// worded by the page (data-file-* on <body>). The input itself stays focusable and labelled.
(function () {
  function enhance(input) {
    if (input.dataset.picker) { return; }
    input.dataset.picker = "1";
    var body = document.body.dataset;
    var wrap = document.createElement("span");
    wrap.className = "file-picker";
    var button = document.createElement("span");
    button.className = "button secondary file-picker-button";
    button.setAttribute("aria-hidden", "true");
    button.textContent = input.multiple ? body.fileChooseMany : body.fileChoose;
    var names = document.createElement("span");
    names.className = "file-picker-names";
    names.setAttribute("aria-live", "polite");
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
    wrap.appendChild(names);
    function show() {
      var files = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
      names.textContent = files.length ? files.join("、") : body.fileNone;
    }
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", show);
    show();
  }
  function all() { document.querySelectorAll('input[type="file"]').forEach(enhance); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSwap", all);
})();

// Date fields: typed as 2026-06-15, or picked from a small calendar worded by the page
// (data-date-* on <body>); the browser's own date control follows the browser's language.
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function iso(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function parse(text) {
    var m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec((text || "").trim());
    return m ? new Date(+m[1], +m[2] - 1, +m[3]) : null;
  }
  function enhance(input) {
    if (input.dataset.dateReady) { return; }
    input.dataset.dateReady = "1";
    var labels = document.body.dataset;
    var wrap = document.createElement("span");
    wrap.className = "date-picker";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var opener = document.createElement("button");
    opener.type = "button";
    opener.className = "date-picker-open";
    opener.setAttribute("aria-label", labels.dateOpen);
    opener.setAttribute("aria-expanded", "false");
    opener.innerHTML = '<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" ' +
      'stroke-width="2"><rect x="3" y="5" width="18" height="16" rx="2"/><path d="M3 10h18M8 3v4M16 3v4"/></svg>';
    wrap.appendChild(opener);
    var panel = document.createElement("div");
    panel.className = "date-picker-panel";
    panel.hidden = true;
    wrap.appendChild(panel);
    var shown = null;

    function button(text, label, onclick, cls) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      if (label) { b.setAttribute("aria-label", label); }
      if (cls) { b.className = cls; }
      b.addEventListener("click", onclick);
      return b;
    }
    function draw() {
      panel.textContent = "";
      var head = document.createElement("div");
      head.className = "date-picker-head";
      head.appendChild(button("‹", labels.datePrev, function () { shown.setMonth(shown.getMonth() - 1); draw(); }));
      var title = document.createElement("span");
      title.textContent = labels.dateMonth.replace("{year}", shown.getFullYear()).replace("{month}", shown.getMonth() + 1);
      head.appendChild(title);
      head.appendChild(button("›", labels.dateNext, function () { shown.setMonth(shown.getMonth() + 1); draw(); }));
      panel.appendChild(head);
      var grid = document.createElement("div");
      grid.className = "date-picker-grid";
      labels.dateWeekdays.split(" ").forEach(function (w) {
        var cell = document.createElement("span");
        cell.className = "date-picker-weekday";
        cell.textContent = w;
        grid.appendChild(cell);
      });
      var first = new Date(shown.getFullYear(), shown.getMonth(), 1);
      var skip = (first.getDay() + 6) % 7;  // weeks start on Monday
      for (var i = 0; i < skip; i++) { grid.appendChild(document.createElement("span")); }
      var chosen = input.value.trim(), today = iso(new Date());
      var days = new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate();
      for (var day = 1; day <= days; day++) {
        (function (value) {
          var cls = "date-picker-day" + (value === chosen ? " chosen" : "") + (value === today ? " today" : "");
          var b = button(String(+value.slice(8)), null, function () { pick(value); }, cls);
          b.title = value;
          b.dataset.date = value;
          grid.appendChild(b);
        })(iso(new Date(shown.getFullYear(), shown.getMonth(), day)));
      }
      panel.appendChild(grid);
      panel.appendChild(button(labels.dateToday, null, function () { pick(today); }, "date-picker-today"));
    }
    function pick(value) {
      input.value = value;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      close();
      input.focus();
    }
    function open() {
      shown = parse(input.value) || new Date();
      shown.setDate(1);
      draw();
      panel.hidden = false;
      opener.setAttribute("aria-expanded", "true");
    }
    function close() { panel.hidden = true; opener.setAttribute("aria-expanded", "false"); }
    opener.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
    document.addEventListener("click", function (e) { if (!wrap.contains(e.target)) { close(); } });
    wrap.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) { close(); opener.focus(); } });
  }
  function all() { document.querySelectorAll("input[data-date-picker]").forEach(enhance); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSwap", all);
})();
