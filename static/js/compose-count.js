// The compose box's counters, counted in the browser as each network counts the post:
// the text as it will be published ("A3: " prefix, the hashtag added when missing, as
// jamhost.posts.compose builds it) and its length for every network rule the post is
// held to (#compose-networks: X's weighted length with X's own twitter-text, vendored
// under static/vendor/; Bluesky's graphemes; a Mastodon instance's characters with links
// at its weight; the local limit's characters), on every keystroke without a request.
// The first count is the limit that binds (the least room left), which the list marks.
// The server counts again when the post is sent: a post over some limits goes to the
// other networks only, and one over every limit is refused.
// It also warns, as the server's post_text_sent_before does, when that exact text already
// went from this account to a network the post goes to that refuses a text twice (the
// form's data-repeats names it: X).
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
  function identical(label) {
    return "You already sent this exact text to " + label + ", and " + label +
      " refuses the same text twice: change a word before posting.";
  }

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
  var sentTexts = new Set();
  var listed = document.getElementById("compose-sent-texts");
  if (listed) {
    try {
      JSON.parse(listed.textContent).forEach(function (text) { sentTexts.add(sameText(text)); });
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

  // How each network counts (jamhost.networks.text_rules): X with twitter-text, Bluesky
  // graphemes, a Mastodon instance graphemes too with each link as url_weight characters
  // and a mention of someone elsewhere as its local part, the local limit code points.
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(text) {
    return segmenter ? Array.from(segmenter.segment(text)).length : Array.from(text).length;
  }
  var URLS = /https?:\/\/[^\s<>"]+/giu;
  var REMOTE_MENTION = /(^|[^\p{L}\p{N}_\/])@([\p{L}\p{N}_]+)@[\p{L}\p{N}.\-]+[\p{L}\p{N}]/gu;
  function networkLength(network, text, urlWeight) {
    if (network === "x") return txt.parseTweet(text).weightedLength;
    if (network === "local") return Array.from(text).length;
    if (network === "mastodon") {
      text = text.replace(URLS, function () { return "x".repeat(urlWeight || 23); })
        .replace(REMOTE_MENTION, "$1@$2");
    }
    return graphemes(text);
  }
  function joinNames(names) {
    return names.length < 2 ? names.join("") : names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  }
  function overText(length, limit) {
    return length + " / " + limit + (length > limit ? " — " + (length - limit) + " over" : "");
  }

  // Every rule's count on the text as it goes there (its own hashtag), each counter
  // written, the binding one marked; the binding count, for the box's first counter.
  function countRules(form, body, number, text) {
    var counters = form.querySelectorAll("#compose-networks li[data-network]");
    var binding = null;
    var over = [];
    var most = 0;
    var least = Infinity;
    counters.forEach(function (li) {
      var network = li.getAttribute("data-network");
      var limit = parseInt(li.getAttribute("data-limit"), 10);
      var tag = li.getAttribute("data-hashtag") || "";
      var there = tag && tag !== form.getAttribute("data-hashtag") ? composeText(body, tag, number) : text;
      var length = networkLength(network, there, parseInt(li.getAttribute("data-url-weight") || "23", 10));
      var left = limit - length;
      li.querySelector(".net-count").textContent = overText(length, limit);
      li.classList.toggle("over", left < 0);
      li.classList.remove("binding");
      if (!binding || left < binding.left) binding = { li: li, length: length, limit: limit, left: left };
      if (left < 0) {
        over.push(li.querySelector(".net-badge").textContent);
        most = Math.max(most, -left);
        least = Math.min(least, -left);
      }
    });
    if (binding && counters.length > 1) {
      binding.li.classList.add("binding");
      binding.li.querySelector(".net-count").textContent += " (the limit that binds)";
    }
    var note = form.querySelector("#compose-networks .net-too-long");
    if (note) {
      note.hidden = counters.length < 2 || !over.length || !body.replace(EDGES, "");
      // Over some limits the post still goes to the other networks; over all, nowhere.
      note.textContent = note.hidden ? "" : over.length === counters.length
        ? "Too long for every network: shorten it by " + least + " to post it."
        : "Too long for " + joinNames(over) + ": it goes to the other networks only. " +
          "Shorten it by " + most + " to reach every one.";
    }
    return binding;
  }

  function count() {
    var form = document.getElementById("compose");
    var box = document.getElementById("compose-count");
    var textarea = form && form.querySelector("textarea[name=body]");
    if (!form || !box || !textarea) return;
    // What the server just stored and sent there (the box after a post says so).
    if (form.hasAttribute("data-sent-text")) sentTexts.add(sameText(form.getAttribute("data-sent-text")));
    var body = textarea.value;
    var number = questionNumber(form);
    var text = composeText(body, form.getAttribute("data-hashtag") || "", number);
    var binding = countRules(form, body, number, text);
    var limit = binding ? binding.limit : parseInt(form.getAttribute("data-limit") || "500", 10);
    var length = binding ? binding.length : Array.from(text).length;
    box.classList.toggle("over", length > limit);
    box.replaceChildren();
    if (body.replace(EDGES, "")) {
      var preview = document.createElement("p");
      preview.className = "preview";
      var label = document.createElement("span");
      label.className = "visually-hidden";
      label.textContent = "Will be published as: ";
      preview.append(label, text);
      box.append(preview);
      var repeats = form.getAttribute("data-repeats");
      if (repeats && sentTexts.has(sameText(text))) {
        var warning = document.createElement("p");
        warning.className = "warn compose-identical";
        warning.setAttribute("role", "status");
        warning.textContent = identical(repeats);
        box.append(warning);
      }
    }
    var counter = document.createElement("span");
    counter.className = "count";
    counter.setAttribute("aria-live", "polite");
    counter.textContent = overText(length, limit);
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
