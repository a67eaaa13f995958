// The host's jam form: times are typed in the host's own zone. The hidden time_zone field
// carries the browser's IANA zone so the server can read the typed wall-clock time.
(function () {
  "use strict";
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function localValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
      "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function setup(root) {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    if (!zone) return;
    root.querySelectorAll("form").forEach(function (form) {
      var input = form.querySelector("input[data-local-start]");
      var tz = form.querySelector("input[data-time-zone]");
      if (!input || !tz) return;
      var utc = input.getAttribute("data-utc");
      if (utc) {
        // An unchanged edit form arrives in UTC; show it in the host's zone instead.
        var d = new Date(utc);
        if (!isNaN(d)) { input.value = localValue(d); tz.value = zone; }
        input.removeAttribute("data-utc");
      } else if (!tz.value || !input.value) {
        tz.value = zone;
      }
      form.querySelectorAll("[data-time-zone-label]").forEach(function (el) { el.textContent = tz.value; });
      warnIfPast(input);
    });
  }

  // A start in the past can be saved as a draft but not scheduled: say so as it is typed.
  function warnIfPast(input) {
    var warning = input.parentNode.querySelector("[data-past-start]");
    if (!warning) return;
    var typed = input.value ? new Date(input.value) : null; // datetime-local: the browser's zone
    warning.hidden = !(typed && !isNaN(typed) && typed.getTime() <= Date.now());
  }

  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:afterSwap", function (e) { setup(e.target); });
  document.addEventListener("input", function (e) {
    if (e.target.matches && e.target.matches("input[data-local-start]")) warnIfPast(e.target);
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("invite-link")) e.target.select();
  });
})();
