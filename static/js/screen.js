// The big screen on top of live.js: of the featured answers, show those to the current
// question (all of them before the first question), newest first, a few at a time.
(function () {
  "use strict";
  var room = document.querySelector("[data-screen]");
  if (!room) return;
  var stream = document.getElementById("stream");
  var SHOWN = 6;

  function currentQuestion() {
    var current = document.querySelector('#question-list li[aria-current="true"]');
    return current ? current.getAttribute("data-number") : "";
  }

  function update() {
    var number = currentQuestion();
    var featured = Array.prototype.filter.call(stream.children, function (el) {
      var show = el.getAttribute("data-featured") === "true" &&
        (!number || el.getAttribute("data-question") === number);
      el.hidden = true;
      return show;
    });
    featured.slice(-SHOWN).forEach(function (el) { el.hidden = false; });
    // Posts that are neither featured nor pinned arrive too (the viewer stream); keep the
    // page small over an hour by dropping the old ones.
    var plain = Array.prototype.filter.call(stream.children, function (el) {
      return el.getAttribute("data-featured") !== "true";
    });
    plain.slice(0, Math.max(0, plain.length - 50)).forEach(function (el) { el.remove(); });
  }

  room.addEventListener("jamhost:post", update);
  room.addEventListener("jamhost:header", update);
  update();
})();
