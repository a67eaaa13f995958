// Times: shown in the reader's own time zone, relative times kept fresh ("3 min ago", with
// the exact time on hover), countdowns ticking.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  var exact = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });
  var clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  var day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  var rtf = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "short" }) : null;

  // Within the hour a post reads best relative to now; older ones by the clock (a replay
  // months later should say when, not "4 months ago").
  function relative(d, now) {
    var s = Math.round((now - d.getTime()) / 1000);
    if (s < 45 && s > -45) return "just now";
    if (rtf && s > 0 && s < 3600) return rtf.format(-Math.round(s / 60), "minute");
    if (now - d.getTime() < 12 * 3600 * 1000 && d.getDate() === new Date(now).getDate()) return clock.format(d);
    return day.format(d);
  }

  function localize(root) {
    var now = Date.now();
    root.querySelectorAll("time.local-time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = fmt.format(d); el.title = exact.format(d); }
    });
    root.querySelectorAll("time.rel-time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = relative(d, now); el.title = exact.format(d); }
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

  // A header swapped in live carries fresh countdowns: fill them now, not a second later.
  window.jamhostTime = { localize: function (root) { localize(root); tick(); } };
  document.addEventListener("DOMContentLoaded", function () { localize(document); tick(); });
  document.addEventListener("htmx:afterSwap", function (e) { localize(e.target); });
  setInterval(tick, 1000);
  // "just now" becomes "1 min ago" without a frame arriving.
  setInterval(function () { localize(document); }, 30000);
})();
