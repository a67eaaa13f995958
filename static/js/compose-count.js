// The compose box's counter, counted in the browser as X counts (X's own twitter-text,
// static/vendor/): the text as it will be published ("A3: " prefix, the hashtag added
// when missing, as jamhost.posts.compose builds it) and its weighted length, on every
// keystroke without a request. The server counts again when the post is sent, and its
// count decides.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  if (!room || !window.twttr || !window.twttr.txt) return;
  var parseTweet = window.twttr.txt.parseTweet;
  // As jamhost.posts.compose.ANSWER_PREFIX: "A3:", "A3 ", "a3-" name the question.
  var ANSWER_PREFIX = /^\s*[Aa](\d{1,3})(?:\s*[:.\-–—)]\s*|\s+)/;
  var WORD = /[\p{L}\p{N}_]/u;

  function escapeRegExp(text) { return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  // As has_hashtag: "#tag" (or "＃tag") standing as a whole tag, in any case.
  function hasHashtag(text, tag) {
    var pattern = new RegExp("[#＃]" + escapeRegExp(tag) + "(?![\\p{L}\\p{N}_])", "giu");
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var before = match.index > 0 ? text.charAt(match.index - 1) : "";
      if (!before || !(WORD.test(before) || before === "#" || before === "&")) return true;
    }
    return false;
  }

  // As compose_text.
  function composeText(body, tag, number) {
    var text = body.trim();
    if (!ANSWER_PREFIX.test(text) && number) text = "A" + number + ": " + text;
    if (!hasHashtag(text, tag)) text = text + " #" + tag;
    return text;
  }

  function questionNumber(form) {
    var select = form.querySelector("select[name=question]");
    var choice = select ? select.value : "auto";
    if (choice === "auto") {
      // The current question, for the host and panelists (data-compose-auto).
      if (room.getAttribute("data-compose-auto") !== "current") return null;
      var current = document.querySelector('#question-list li[aria-current="true"]');
      return current ? current.getAttribute("data-number") : null;
    }
    return /^\d+$/.test(choice) ? choice : null;
  }

  function count() {
    var form = document.getElementById("compose");
    var box = document.getElementById("compose-count");
    var textarea = form && form.querySelector("textarea[name=body]");
    if (!form || !box || !textarea) return;
    var limit = parseInt(form.getAttribute("data-limit") || "280", 10);
    var body = textarea.value;
    var text = composeText(body, form.getAttribute("data-hashtag") || "", questionNumber(form));
    var length = parseTweet(text).weightedLength;
    var over = length - limit;
    box.classList.toggle("over", over > 0);
    box.replaceChildren();
    if (body.trim()) {
      var preview = document.createElement("p");
      preview.className = "preview";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = "Will be published as: ";
      preview.append(label, text);
      box.append(preview);
    }
    var counter = document.createElement("span");
    counter.className = "count";
    counter.setAttribute("aria-live", "polite");
    counter.textContent = length + " / " + limit + (over > 0 ? " — " + over + " over" : "");
    box.append(counter);
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#compose")) count();
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest("#compose")) count();
  });
  // A new form after posting, and a newly released question (the "A3:" prefix).
  document.body.addEventListener("htmx:afterSwap", count);
  room.addEventListener("jamhost:header", count);
  count();
})();
