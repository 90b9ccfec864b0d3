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
