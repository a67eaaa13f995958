// The moderation console on top of live.js: filtered views that keep up with live frames,
// keyboard moderation, fresh idempotency keys for forms sent more than once, and the
// people / answers / audit panels reloaded as the jam changes.
(function (root) {
  "use strict";

  // Views --------------------------------------------------------------------------------
  // Pure, so tests can run it under node: does a post (its data- attributes) belong in the
  // chosen view?
  function attributesOf(el) {
    return {
      status: el.getAttribute("data-status") || "",
      role: el.getAttribute("data-role") || "",
      question: el.getAttribute("data-question") || "",
      author: el.getAttribute("data-author") || "",
      audienceQuestion: el.getAttribute("data-audience-question") === "true",
      answered: el.getAttribute("data-answered") === "true",
      pinned: el.getAttribute("data-pinned") === "true",
      featured: el.getAttribute("data-featured") === "true",
      upvotes: parseInt(el.getAttribute("data-upvotes") || "0", 10) || 0,
      questionRelease: el.classList ? el.classList.contains("kind-question") : false
    };
  }

  function matches(post, view) {
    if (view.question && post.question !== view.question) return false;
    if (view.author && post.author !== view.author) return false;
    switch (view.name) {
      case "pending": return post.status === "pending";
      case "questions": return post.audienceQuestion;
      // The host's question releases stay, so panelists' answers read in context.
      case "panelists": return post.role === "panelist" || post.questionRelease;
      case "highlighted": return post.pinned || post.featured;
      default: return true;
    }
  }

  // Audience questions: unanswered first, then the most upvoted (a flex "order"; the
  // stream is a flex column, so a lower order comes first).
  function orderOf(post, view) {
    if (view.name !== "questions" || !post.audienceQuestion) return 0;
    return (post.answered ? 0 : -1000000) - Math.min(post.upvotes || 0, 999999);
  }

  var api = { matches: matches, orderOf: orderOf, attributesOf: attributesOf };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; return; }
  root.jamhostConsole = api;

  var room = document.querySelector("[data-live-room]");
  if (!room || !document.querySelector(".console-tools")) return;

  var params = new URLSearchParams(window.location.search);
  var view = {
    name: params.get("view") || "all",
    question: params.get("q") || "",
    author: params.get("author") || ""
  };
  var questionSelect = document.getElementById("view-question");
  var authorBox = document.getElementById("view-author");

  function posts() {
    return Array.prototype.slice.call(room.querySelectorAll("#pinned > .post, #stream > .post"));
  }

  function applyView(el) {
    var post = attributesOf(el);
    el.hidden = !matches(post, view);
    el.style.order = String(orderOf(post, view));
  }

  function showView() {
    document.querySelectorAll("[data-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-view") === view.name));
    });
    if (questionSelect) questionSelect.value = view.question;
    if (authorBox) {
      authorBox.hidden = !view.author;
      var label = authorBox.querySelector("[data-author-label]");
      var person = view.author && document.querySelector('[data-filter-author="' + CSS.escape(view.author) + '"]');
      if (label) label.textContent = person ? person.getAttribute("data-handle") : view.author;
    }
    posts().forEach(applyView);
    var query = new URLSearchParams();
    if (view.name !== "all") query.set("view", view.name);
    if (view.question) query.set("q", view.question);
    if (view.author) query.set("author", view.author);
    var search = query.toString();
    window.history.replaceState(null, "", window.location.pathname + (search ? "?" + search : ""));
    countPending();
  }

  function countPending() {
    var count = room.querySelectorAll('.post[data-status="pending"]').length;
    document.querySelectorAll('[data-count="pending"]').forEach(function (c) {
      c.textContent = count ? "(" + count + ")" : "";
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-view]");
    if (button) { view.name = button.getAttribute("data-view"); showView(); return; }
    var person = e.target.closest("[data-filter-author]");
    if (person) { view.author = person.getAttribute("data-filter-author"); showView(); return; }
    if (e.target.closest("[data-clear-author]")) { view.author = ""; showView(); }
  });
  if (questionSelect) {
    questionSelect.addEventListener("change", function () { view.question = questionSelect.value; showView(); });
  }

  // Keep the question filter's list in step with released questions.
  room.addEventListener("jamhost:header", function () {
    if (!questionSelect) return;
    var have = {};
    Array.prototype.forEach.call(questionSelect.options, function (o) { have[o.value] = true; });
    document.querySelectorAll("#question-list li[data-number]").forEach(function (li) {
      var n = li.getAttribute("data-number");
      if (have[n]) return;
      var option = document.createElement("option");
      option.value = n;
      option.textContent = "A" + n;
      questionSelect.appendChild(option);
    });
  });

  // Selection and keys -------------------------------------------------------------------
  var selectedId = null;

  function select(el) {
    var old = selectedId && document.getElementById(selectedId);
    if (old) { old.classList.remove("selected"); old.removeAttribute("aria-current"); }
    selectedId = el ? el.id : null;
    if (!el) return;
    el.classList.add("selected");
    el.setAttribute("aria-current", "true");
    el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function shown() {
    // On-screen order, whatever newest-first or the view's ordering did to the DOM order.
    return posts().filter(function (el) { return !el.hidden; }).sort(function (a, b) {
      return a.getBoundingClientRect().top - b.getBoundingClientRect().top;
    });
  }

  function move(step) {
    var list = shown();
    if (!list.length) return;
    var current = selectedId ? list.findIndex(function (el) { return el.id === selectedId; }) : -1;
    var next = current < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, current + step));
    select(list[next]);
  }

  function press(shortcut) {
    var el = selectedId && document.getElementById(selectedId);
    if (!el) return;
    var form = el.querySelector(".mod-actions");
    var button = form && form.querySelector('[data-shortcut="' + shortcut + '"]');
    // The post's allowed actions, as the server computed them (Post.moderation_actions).
    var allowed = form ? (form.getAttribute("data-actions") || "").split(" ") : [];
    if (!button || allowed.indexOf(button.value) < 0) return;
    if (shortcut === "b" && !window.confirm(button.textContent.trim() + " for this jam?")) return;
    button.click();
  }

  // A click on a post (not on its buttons or fields) selects it for the keys.
  room.addEventListener("click", function (e) {
    if (e.target.closest("button, a, input, textarea, select, summary, details")) return;
    var post = e.target.closest("article.post");
    if (post) select(post);
  });

  var help = document.getElementById("console-help");
  var helpOpen = document.getElementById("help-open");
  if (helpOpen && help) helpOpen.addEventListener("click", function () { help.showModal(); });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (help && help.open) return;
    var key = e.key;
    if (key === "?") { e.preventDefault(); if (help) help.showModal(); return; }
    if (key === "j") { e.preventDefault(); move(1); return; }
    if (key === "k") { e.preventDefault(); move(-1); return; }
    if (key === " " && (!t || t === document.body || t.classList.contains("post"))) {
      e.preventDefault();
      document.getElementById("pause-toggle").click();
      return;
    }
    if ("ahrpfub".indexOf(key) >= 0 && key.length === 1) { e.preventDefault(); press(key); }
  });

  // A post replaced by a newer rev keeps the view and the selection.
  room.addEventListener("jamhost:post", function (e) {
    var el = e.detail;
    applyView(el);
    if (el.id === selectedId) { el.classList.add("selected"); el.setAttribute("aria-current", "true"); }
    countPending();
    refreshSoon();
  });
  room.addEventListener("jamhost:header", refreshSoon);
  // Polls launched, closed or sent to X are in the audit log too.
  room.addEventListener("jamhost:poll", refreshSoon);

  // Sending ------------------------------------------------------------------------------
  function freshKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  document.body.addEventListener("htmx:wsConfigSend", function (e) {
    var form = e.target;
    var submitter = e.detail.triggeringEvent && e.detail.triggeringEvent.submitter;
    if (submitter && submitter.name) e.detail.parameters[submitter.name] = submitter.value;
    // The message is built: a later send from this form is a new action, not a resend.
    var key = form.querySelector && form.querySelector('input[name="key"]');
    if (key) key.value = freshKey();
    var expected = form.querySelector && form.querySelector('input[name="expected"]');
    var words = form.querySelector && form.querySelector('textarea[name="muted_words"]');
    if (expected && words) expected.value = words.value;
  });

  // Panels: reload at most every two seconds while the jam changes, and once more after.
  var panels = document.getElementById("console-panels");
  var timer = null;
  var again = false;
  function refreshSoon() {
    if (!panels) return;
    if (timer) { again = true; return; }
    htmx.trigger(panels, "jamhost:refresh");
    timer = window.setTimeout(function () {
      timer = null;
      if (again) { again = false; refreshSoon(); }
    }, 2000);
  }

  showView();
})(typeof window !== "undefined" ? window : this);
