// Times: shown in the reader's own time zone, relative times kept fresh, countdowns ticking.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  function localize(root) {
    root.querySelectorAll("time.local-time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = fmt.format(d); el.title = d.toISOString(); }
    });
    root.querySelectorAll("time.rel-time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = clock.format(d); el.title = fmt.format(d); }
    });
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var target = Date.parse(el.getAttribute("data-countdown"));
      if (isNaN(target)) return;
      var s = Math.max(0, Math.round((target - now) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(sec);
    });
  }

  window.jamhostTime = { localize: localize };
  document.addEventListener("DOMContentLoaded", function () { localize(document); tick(); });
  document.addEventListener("htmx:afterSwap", function (e) { localize(e.target); });
  setInterval(tick, 1000);
})();
