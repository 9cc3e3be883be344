// The list refreshes itself (the browser's 秒推): every second it asks the service for the rows
// it shows, and puts them in place when their stamp (which cases, at which version) changed, so
// that a new case appears without a reload.
(function () {
  "use strict";
  var box = document.getElementById("cases");
  if (!box || !box.dataset.live || !window.fetch) { return; }
  function current() {
    var shown = box.querySelector("[data-stamp]");
    return shown ? shown.getAttribute("data-stamp") : "";
  }
  function tick() {
    fetch(box.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var stamp = html && html.match(/data-stamp="([^"]*)"/);
        if (stamp && stamp[1] !== current()) { box.innerHTML = html; }
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ })
      .then(function () { window.setTimeout(tick, 1000); });
  }
  window.setTimeout(tick, 1000);
})();
