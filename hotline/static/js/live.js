// Live notices: the bell's count and list, lists that refresh themselves, and for department staff a
// toast and a short sound when a new order or an urge arrives (muted with the header's toggle).
// One EventSource per page on /live/stream; it reconnects by itself, and every (re)connection
// fetches the bell and refreshes the lists, so nothing that happened while away is missed.
(function () {
  "use strict";
  var body = document.body;
  var streamUrl = body.getAttribute("data-live-stream");
  if (!streamUrl || !window.EventSource) { return; }

  var bell = document.getElementById("bell");
  var panel = document.getElementById("bell-panel");
  var toasts = document.getElementById("live-toasts");
  var muteButton = document.querySelector("[data-live-mute]");
  var MUTED = "hotline.live.muted";
  var source = null, opened = 0, timers = {};

  function later(name, ms, fn) {           // run fn once, ms after the last call of this name
    clearTimeout(timers[name]);
    timers[name] = setTimeout(fn, ms);
  }

  // ---- the bell
  function setCount(n, label) {
    if (!bell) { return; }
    var summary = bell.querySelector("summary");
    var badge = summary.querySelector("[data-bell-count]");
    if (!n) { if (badge) { badge.remove(); } return; }
    if (!badge) {
      badge = document.createElement("span");
      badge.setAttribute("data-bell-count", "");
      badge.className = "count";
      summary.appendChild(document.createTextNode(" "));
      summary.appendChild(badge);
    }
    if (label) { badge.setAttribute("aria-label", label); } else { badge.removeAttribute("aria-label"); }
    badge.textContent = String(n);
  }

  function refreshBell() {
    if (!bell) { return; }
    fetch(bell.getAttribute("data-bell-url"), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var box = document.createElement("div");
        box.innerHTML = html;
        var list = box.querySelector("[data-count]");
        if (!list) { return; }
        panel.replaceChildren(list);
        setCount(parseInt(list.getAttribute("data-count"), 10) || 0, list.getAttribute("data-label"));
      })
      .catch(function () { /* offline: the next event or reconnection tries again */ });
  }
  if (bell) { bell.addEventListener("toggle", function () { if (bell.open) { refreshBell(); } }); }

  // ---- lists on the page (hx-trigger="liverefresh[liveMayRefresh('id')] from:body") fetch themselves
  // again, but not under the hands of someone typing in them or with orders ticked in them
  window.liveMayRefresh = function (id) {
    var region = document.getElementById(id), active = document.activeElement;
    if (!region) { return false; }
    if (active && region.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return false; }
    return !region.querySelector("input[type=checkbox]:checked");
  };
  function refreshLists() {
    later("lists", 800, function () { body.dispatchEvent(new CustomEvent("liverefresh")); });
  }

  // ---- sound (Web Audio: two short tones, no file) and its mute toggle, remembered in this browser
  var audio = null;
  function muted() { try { return localStorage.getItem(MUTED) === "1"; } catch (e) { return false; } }
  function showMuted() { if (muteButton) { muteButton.setAttribute("aria-pressed", muted() ? "true" : "false"); } }
  if (muteButton) {
    showMuted();
    muteButton.addEventListener("click", function () {
      try { localStorage.setItem(MUTED, muted() ? "0" : "1"); } catch (e) { /* private mode */ }
      showMuted();
    });
  }
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) { audio = new Ctx(); }
    return audio;
  }
  // browsers start sound only after the person has touched the page once
  document.addEventListener("pointerdown", function () {
    var ctx = audioContext();
    if (ctx && ctx.state === "suspended") { ctx.resume(); }
  }, { once: true });
  function chime() {
    if (muted()) { return; }
    var ctx = audioContext();
    if (!ctx) { return; }
    [0, 0.22].forEach(function (at, i) {
      var osc = ctx.createOscillator(), gain = ctx.createGain(), t = ctx.currentTime + at;
      osc.type = "sine";
      osc.frequency.value = i ? 1175 : 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.2);
    });
    body.setAttribute("data-live-chimed", String(1 + (parseInt(body.getAttribute("data-live-chimed"), 10) || 0)));
  }

  // ---- toasts
  function toast(latest) {
    if (!toasts) { return; }
    var box = document.createElement("div");
    box.className = "toast" + (latest.urgent ? " urgent" : "");
    var title = document.createElement("strong");
    title.textContent = latest.subject || "";
    var text = document.createElement("p");
    text.textContent = latest.body || "";
    var actions = document.createElement("div");
    actions.className = "toast-actions";
    if (latest.url) {
      var open = document.createElement("a");
      open.href = latest.url;
      open.textContent = toasts.getAttribute("data-open-label");
      actions.appendChild(open);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = toasts.getAttribute("data-close-label");
    close.addEventListener("click", function () { box.remove(); });
    actions.appendChild(close);
    box.append(title, text, actions);
    toasts.appendChild(box);
    while (toasts.children.length > 3) { toasts.firstElementChild.remove(); }
    if (!latest.urgent) { setTimeout(function () { box.remove(); }, 30000); }
  }

  // ---- the stream
  function onNotice(e) {
    var data = JSON.parse(e.data);
    setCount(data.count);
    if (bell) {
      bell.classList.remove("rang");
      void bell.offsetWidth;                 // restart the pulse
      bell.classList.add("rang");
      later("bell", 300, refreshBell);      // the list and the count's spoken label
    }
    if (body.hasAttribute("data-live-alerts") && data.latest && data.latest.alert) {
      toast(data.latest);
      chime();
    }
    refreshLists();
  }

  function connect() {
    source = new EventSource(streamUrl);
    source.addEventListener("open", function () {
      opened += 1;
      body.setAttribute("data-live-connected", String(opened));
      refreshBell();
      if (opened > 1) { refreshLists(); }     // back after a break: whatever changed meanwhile
    });
    source.addEventListener("notice", onNotice);
    source.addEventListener("changed", refreshLists);
    source.addEventListener("resync", function () { refreshBell(); refreshLists(); });
    source.addEventListener("error", function () {
      body.removeAttribute("data-live-connected");
      if (source.readyState === EventSource.CLOSED) {  // refused (logged out, server error): try later
        later("reconnect", 20000, function () {
          fetch(bell ? bell.getAttribute("data-bell-url") : streamUrl, { credentials: "same-origin" })
            .then(function (r) { if (r.ok && !r.redirected) { connect(); } })
            .catch(function () { later("reconnect", 20000, connect); });
        });
      }
    });
  }
  connect();
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { connect(); } });
})();
