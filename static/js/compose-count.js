// The compose box's counter, counted in the browser as X counts (X's own twitter-text,
// static/vendor/): the text as it will be published ("A3: " prefix, the hashtag added
// when missing, as jamhost.posts.compose builds it) and its weighted length, on every
// keystroke without a request. The server counts again when the post is sent, and its
// count decides. It also warns, as the server's post_text_sent_to_x_before does, when
// that exact text already went to X from this account: X refuses it a second time.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  if (!room || !window.twttr || !window.twttr.txt) return;
  var txt = window.twttr.txt;

  // Python's whitespace (str.isspace, and \s in its regular expressions), which differs
  // from JavaScript's \s and trim() in a few control characters and U+FEFF.
  var SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var EDGES = new RegExp("^" + SPACE + "+|" + SPACE + "+$", "gu");
  // jamhost.jams.answers, the one answer-prefix rule (its FORMS): "A3: …", "A3 …",
  // "a3- …", "A 3: …" (a space needs the mark), after any leading @handles.
  var SEP = "[:.)\\-\\u2013\\u2014]";
  var ANSWER_PREFIX = new RegExp(
    "^" + SPACE + "*(?:@[\\p{L}\\p{N}_]{1,15}" + SPACE + "+)*[Aa](?:" +
      "\\p{Nd}{1,3}(?:" + SPACE + "*" + SEP + "|(?=" + SPACE + "))" +
      "|[ \\t]\\p{Nd}{1,3}" + SPACE + "*" + SEP + ")",
    "u"
  );
  var IDENTICAL = "You already sent this exact text to X, and X refuses the same text twice: " +
    "change a word before posting.";

  // jamhost.jams.hashtags.hashtag_fold (NFC, Unicode case folding, NFC). JavaScript has
  // no case folding: lower, upper, lower again folds the same letters together (ß and
  // SS, final and other sigma), except that the dotless ı must not become i.
  function fold(tag) {
    return tag.normalize("NFC").toLowerCase().split("\u0131").map(function (part) {
      return part.toUpperCase().toLowerCase();
    }).join("\u0131").normalize("NFC");
  }

  // text_has_hashtag: X links #tag in the text (twitter-text's own extraction: no tag
  // inside a URL or running on into more tag characters), in any case or normalization.
  function hasHashtag(text, tag) {
    var wanted = fold(tag.replace(/^[#\uff03]+/, ""));
    return txt.extractHashtags(text).some(function (found) { return fold(found) === wanted; });
  }

  // jamhost.posts.compose.compose_text.
  function composeText(body, tag, number) {
    var text = body.replace(EDGES, "");
    if (!ANSWER_PREFIX.test(text) && number) text = "A" + number + ": " + text;
    if (!hasHashtag(text, tag)) text = text + " #" + tag;
    return text;
  }
  window.jamhostCompose = { composeText: composeText };

  // A browser sends a textarea's line breaks as CR LF and shows them as LF.
  function sameText(text) { return text.replace(/\r\n?/g, "\n"); }
  var sentToX = new Set();
  var listed = document.getElementById("compose-sent-to-x");
  if (listed) {
    try {
      JSON.parse(listed.textContent).forEach(function (text) { sentToX.add(sameText(text)); });
    } catch (e) { /* no warning is better than no counter */ }
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
    // What the server just stored and sent to X (the box after a post says so).
    if (form.hasAttribute("data-sent-to-x")) sentToX.add(sameText(form.getAttribute("data-sent-to-x")));
    var limit = parseInt(form.getAttribute("data-limit") || "280", 10);
    var body = textarea.value;
    var text = composeText(body, form.getAttribute("data-hashtag") || "", questionNumber(form));
    var length = txt.parseTweet(text).weightedLength;
    var over = length - limit;
    box.classList.toggle("over", over > 0);
    box.replaceChildren();
    if (body.replace(EDGES, "")) {
      var preview = document.createElement("p");
      preview.className = "preview";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = "Will be published as: ";
      preview.append(label, text);
      box.append(preview);
      if (sentToX.has(sameText(text))) {
        var warning = document.createElement("p");
        warning.className = "warn compose-identical";
        warning.setAttribute("role", "status");
        warning.textContent = IDENTICAL;
        box.append(warning);
      }
    }
    var counter = document.createElement("span");
    counter.className = "count";
    counter.setAttribute("aria-live", "polite");
    counter.textContent = length + " / " + limit + (over > 0 ? " — " + over + " over" : "");
    box.append(counter);
    countNetworks(form, body, questionNumber(form), length);
  }

  // The other networks the post goes to (jamhost.networks.compose_limits): Bluesky counts
  // graphemes, a Mastodon instance graphemes too with each link as url_weight characters
  // and a mention of someone elsewhere as its local part. Only X's count can refuse a
  // post: a network it is too long for is left out, and the box says so.
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(text) {
    return segmenter ? Array.from(segmenter.segment(text)).length : Array.from(text).length;
  }
  var URLS = /https?:\/\/[^\s<>"]+/giu;
  var REMOTE_MENTION = /(^|[^\p{L}\p{N}_\/])@([\p{L}\p{N}_]+)@[\p{L}\p{N}.\-]+[\p{L}\p{N}]/gu;
  function networkLength(network, text, urlWeight) {
    if (network === "mastodon") {
      text = text.replace(URLS, function () { return "x".repeat(urlWeight || 23); })
        .replace(REMOTE_MENTION, "$1@$2");
    }
    return graphemes(text);
  }
  function joinNames(names) {
    return names.length < 2 ? names.join("") : names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  }

  function countNetworks(form, body, number, xLength) {
    var counters = form.querySelectorAll("#compose-networks li[data-network]");
    if (!counters.length) return;
    var tight = null;
    var tightest = Infinity;
    var over = [];
    var fits = [];
    var xOver = false;
    counters.forEach(function (li) {
      var network = li.getAttribute("data-network");
      var limit = parseInt(li.getAttribute("data-limit"), 10);
      var length = network === "x" ? xLength : networkLength(
        network,
        composeText(body, li.getAttribute("data-hashtag") || "", number),
        parseInt(li.getAttribute("data-url-weight") || "23", 10)
      );
      var left = limit - length;
      var name = li.querySelector(".net-badge").textContent;
      li.querySelector(".net-count").textContent = length + " / " + limit + (left < 0 ? " — " + (-left) + " over" : "");
      li.classList.toggle("over", left < 0);
      li.classList.remove("binding");
      if (left < tightest) { tightest = left; tight = li; }
      if (network === "x") xOver = left < 0;
      (left < 0 ? over : fits).push(name);
    });
    if (tight) {
      tight.classList.add("binding");
      tight.querySelector(".net-count").textContent += " (the limit that binds)";
    }
    var note = form.querySelector("#compose-networks .net-too-long");
    var tooLong = over.filter(function (name) { return name !== "X"; });
    if (!note) return;
    note.hidden = xOver || !tooLong.length || !body.replace(EDGES, "");
    note.textContent = note.hidden ? "" : "Too long for " + joinNames(tooLong) + ": it will post to " + joinNames(fits) + " only.";
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
