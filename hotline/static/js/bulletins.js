// The bulletins page: show the week or month picker of the chosen kind, and follow each bulletin being
// generated (its progress bar) by polling its JSON status until it is ready or has failed.
(function () {
  "use strict";
  var kind = document.getElementById("b-kind");
  function showKind() {
    document.querySelectorAll("[data-bulletin-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-bulletin-kind") !== kind.value;
    });
  }
  if (kind) { kind.addEventListener("change", showKind); showKind(); }

  function follow(cell) {
    var url = cell.getAttribute("data-status-url");
    var bar = cell.querySelector("progress");
    var state = cell.querySelector("[data-state]");
    var step = cell.querySelector("[data-step]");
    var downloads = cell.parentNode.querySelector("[data-downloads]");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (s) {
          state.textContent = s.state_title;
          if (bar) { bar.value = s.progress; bar.textContent = s.progress + "%"; }
          if (step) { step.textContent = s.step_title; }
          if (s.state === "done" || s.state === "failed") {
            if (bar) { bar.remove(); }
            if (step) { step.textContent = s.error || ""; step.className = s.error ? "field-error" : "muted"; }
            downloads.textContent = "";
            s.downloads.forEach(function (d) {
              var a = document.createElement("a");
              a.className = "button secondary"; a.href = d.url; a.textContent = d.label;
              downloads.appendChild(a); downloads.appendChild(document.createTextNode(" "));
            });
            return;
          }
          setTimeout(poll, 1500);
        })
        .catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 800);
  }
  document.querySelectorAll("[data-status-url]").forEach(follow);
})();
