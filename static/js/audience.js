// Audience participation on top of live.js: upvotes, flags, side conversations threaded
// under their post, people to follow, and the big screen's top questions.
// The post fragments are shared by everyone; what is yours (your votes, flags and
// follow-ups) comes from the jam's per-user JSON and is marked here.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  if (!room) return;
  var box = document.getElementById("audience");
  var top = document.getElementById("top-questions");
  var isConsole = !!document.querySelector(".console-tools");
  var TOP_SHOWN = 5;
  var OWN_QUESTION = "This is your own question: others can upvote it, you cannot.";
  var state = { signedIn: false, me: "", votes: {}, flags: {}, follows: {} };

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  function urlFor(name, id) {
    return box.getAttribute("data-" + name + "-url").replace("/posts/0/", "/posts/" + encodeURIComponent(id) + "/");
  }
  function freshKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function notice(text, ok) {
    var el = document.getElementById("audience-notice");
    if (!el) return;
    el.textContent = text || "";
    el.className = "audience-notice " + (ok ? "ok" : "error");
    el.setAttribute("role", ok ? "status" : "alert");
  }
  function send(href, fields) {
    return fetch(href, {
      method: "POST",
      body: new URLSearchParams(fields),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () {
        return { ok: false, message: "The server did not answer (" + r.status + "). Try again in a moment." };
      });
    }, function () {
      return { ok: false, message: "No connection to the server. Try again in a moment." };
    });
  }
  function upvotesOf(el) {
    var count = el.querySelector(".upvote-count");
    return parseInt(el.getAttribute("data-upvotes") || (count ? count.textContent : "0"), 10) || 0;
  }
  function seqOf(el) { return parseInt(el.getAttribute("data-seq") || "0", 10); }
  function replyTo(el) {
    var info = el.querySelector(".post-audience");
    return info ? info.getAttribute("data-reply-to") : null;
  }

  // Not signed in: the link signs in (or up, from there) and comes back to this post.
  function signinBack(link) {
    var back = window.location.pathname + window.location.search + "#post-" + link.getAttribute("data-signin");
    link.setAttribute("href", link.getAttribute("href").split("?")[0] + "?next=" + encodeURIComponent(back));
  }

  // What is yours -------------------------------------------------------------------------
  function mark(scope) {
    scope.querySelectorAll("a[data-signin]").forEach(signinBack);
    scope.querySelectorAll("[data-vote]").forEach(function (b) {
      var on = !!state.votes[b.getAttribute("data-vote")];
      b.setAttribute("aria-pressed", String(on));
      b.classList.toggle("mine", on);
    });
    scope.querySelectorAll(".flag-menu").forEach(function (menu) {
      var button = menu.querySelector("[data-flag]");
      var flagged = button && state.flags[button.getAttribute("data-flag")];
      menu.classList.toggle("flagged", !!flagged);
      var summary = menu.querySelector("summary");
      if (summary) summary.textContent = flagged ? "Flagged" : "Flag";
    });
    scope.querySelectorAll("[data-follow]").forEach(function (b) {
      var on = !!state.follows[b.getAttribute("data-follow")];
      b.setAttribute("aria-pressed", String(on));
      b.textContent = on ? "Following up ✓" : "Follow up";
      b.hidden = !state.signedIn || b.getAttribute("data-follow") === state.me;
    });
    // Your own posts: nothing to upvote or flag there, and the ▲ says why.
    var own = scope.matches && scope.matches(".post") ? [scope] : [];
    own.concat(Array.prototype.slice.call(scope.querySelectorAll(".post"))).forEach(function (post) {
      var mine = state.me && post.getAttribute("data-author") === state.me;
      post.classList.toggle("mine", !!mine);
      var vote = post.querySelector(":scope > .post-audience > [data-vote]");
      if (!vote) return;
      if (mine) {
        vote.setAttribute("aria-disabled", "true");
        vote.setAttribute("title", OWN_QUESTION);
      } else {
        vote.removeAttribute("aria-disabled");
        vote.setAttribute("title", "Upvote this question");
      }
    });
  }

  function loadMarks() {
    if (!box) return;
    fetch(box.getAttribute("data-marks-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        state.signedIn = data.signed_in;
        state.me = data.me;
        state.votes = {}; state.flags = {}; state.follows = {};
        data.votes.forEach(function (id) { state.votes[id] = true; });
        data.flags.forEach(function (id) { state.flags[id] = true; });
        data.follow_ups.forEach(function (key) { state.follows[key] = true; });
        mark(document);
      })
      .catch(function () {});
  }

  // Side conversations ---------------------------------------------------------------------
  // Each thread is a JS-owned element that survives its parent being replaced by a newer
  // rev: it is moved into the new fragment's slot.
  var threads = {};

  function threadFor(id) {
    if (threads[id]) return threads[id];
    var wrap = document.createElement("div");
    wrap.className = "thread";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "link thread-toggle";
    toggle.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    var formSlot = document.createElement("div");
    var replies = document.createElement("div");
    replies.className = "replies";
    replies.hidden = true;
    wrap.appendChild(toggle); wrap.appendChild(formSlot); wrap.appendChild(replies);
    var thread = { wrap: wrap, toggle: toggle, formSlot: formSlot, replies: replies };
    function recount() {
      var n = replies.querySelectorAll(":scope > .post").length;
      toggle.hidden = n === 0;
      toggle.textContent = (replies.hidden ? "▸ " : "▾ ") + n + (n === 1 ? " reply" : " replies");
    }
    thread.recount = recount;
    toggle.addEventListener("click", function () {
      replies.hidden = !replies.hidden;
      toggle.setAttribute("aria-expanded", String(!replies.hidden));
      recount();
    });
    // live.js removes a reply hidden by a moderator: keep the count true.
    new MutationObserver(recount).observe(replies, { childList: true });
    threads[id] = thread;
    return thread;
  }

  function attach(id) {
    var thread = threads[id];
    var parent = document.getElementById("post-" + id);
    if (!thread || !parent) return false;
    var slot = parent.querySelector("[data-thread-slot]") || parent.querySelector(".post-audience");
    if (slot && thread.wrap.parentNode !== slot) slot.appendChild(thread.wrap);
    return true;
  }

  function insertBySeq(container, el) {
    var seq = seqOf(el);
    var child = container.firstElementChild;
    while (child && seqOf(child) < seq) child = child.nextElementSibling;
    container.insertBefore(el, child);
  }

  function thread(el) {
    var parentId = replyTo(el);
    // Moderators see every post flat, the moment it arrives (pending replies included).
    if (parentId && !isConsole && document.getElementById("post-" + parentId)) {
      var t = threadFor(parentId);
      var old = t.replies.querySelector("#" + CSS.escape(el.id));
      if (old && old !== el) old.remove();
      insertBySeq(t.replies, el);
      attach(parentId);
      t.recount();
    }
    var id = (el.id || "").replace("post-", "");
    if (threads[id]) attach(id);
  }

  // The room's "most upvoted first" and the big screen's top five ---------------------------
  var byVotes = document.getElementById("questions-by-votes");
  function orderByVotes() {
    if (!byVotes) return;
    room.classList.toggle("questions-by-votes", byVotes.checked);
    room.querySelectorAll("#stream > .post").forEach(function (el) {
      var question = el.getAttribute("data-audience-question") === "true";
      el.style.order = byVotes.checked && question ? String(-upvotesOf(el)) : "";
    });
  }
  if (byVotes) byVotes.addEventListener("change", orderByVotes);

  function refreshTop() {
    if (!top) return;
    var items = Array.prototype.slice.call(top.children).filter(function (el) {
      return el.getAttribute("data-answered") !== "true" && el.getAttribute("data-status") === "visible";
    });
    Array.prototype.forEach.call(top.children, function (el) { if (items.indexOf(el) < 0) el.remove(); });
    items.sort(function (a, b) { return upvotesOf(b) - upvotesOf(a) || seqOf(a) - seqOf(b); });
    items.forEach(function (el, i) {
      top.appendChild(el);
      el.hidden = i >= TOP_SHOWN;
      if (i >= 50) el.remove();
    });
  }

  // People panel: refreshed 20-40 s after posts arrive (spread out, so a thousand
  // screens do not ask at once), not once per post; the server caches it a few seconds.
  var panel = document.getElementById("people-panel");
  var peopleTimer = null;
  function refreshPeopleSoon() {
    if (!panel || peopleTimer) return;
    peopleTimer = window.setTimeout(function () {
      peopleTimer = null;
      htmx.trigger(panel, "jamhost:people");
    }, 20000 + Math.random() * 20000);
  }
  if (panel) panel.addEventListener("htmx:afterSwap", function () { mark(panel); });

  room.addEventListener("jamhost:post", function (e) {
    var el = e.detail;
    if (top) {
      if (el.getAttribute("data-audience-question") === "true") top.appendChild(el);
      refreshTop();
      return;
    }
    thread(el);
    mark(el);
    if (byVotes && byVotes.checked) orderByVotes();
    refreshPeopleSoon();
  });

  // Actions -------------------------------------------------------------------------------
  function countInto(postId, upvotes) {
    var el = document.getElementById("post-" + postId);
    var count = el && el.querySelector(".upvote-count");
    if (count && typeof upvotes === "number") count.textContent = String(upvotes);
  }

  function openReply(postId) {
    var post = document.getElementById("post-" + postId);
    var template = document.getElementById("reply-form-template");
    if (!post || !template) return;
    var root = replyTo(post) && document.getElementById("post-" + replyTo(post)) && !isConsole ? replyTo(post) : postId;
    var t = threadFor(root);
    attach(root);
    var form = t.formSlot.querySelector("form");
    if (!form) {
      form = template.content.firstElementChild.cloneNode(true);
      t.formSlot.appendChild(form);
    }
    form.setAttribute("data-reply-to", postId);
    form.querySelector('input[name="client_key"]').value = freshKey();
    var handle = post.querySelector(".handle");
    form.querySelector("textarea").setAttribute("aria-label", "Reply to " + (handle ? handle.textContent : "this post"));
    form.querySelector("textarea").focus();
  }

  document.addEventListener("click", function (e) {
    var signin = e.target.closest("a[data-signin]");
    if (signin) { signinBack(signin); return; }
    var target = e.target.closest("[data-vote], [data-flag], [data-dismiss-flags], [data-reply], [data-reply-cancel], [data-follow]");
    if (!target || !box) return;
    var id;
    if (target.hasAttribute("data-vote") && target.getAttribute("aria-disabled") === "true") {
      notice(OWN_QUESTION, false);
    } else if (target.hasAttribute("data-vote")) {
      id = target.getAttribute("data-vote");
      var remove = !!state.votes[id];
      send(urlFor("vote", id), { vote: remove ? "remove" : "add" }).then(function (answer) {
        notice(answer.message, answer.ok);
        if (!answer.ok) return;
        if (remove) delete state.votes[id]; else state.votes[id] = true;
        countInto(id, answer.upvotes);
        mark(document.getElementById("post-" + id) || document);
      });
    } else if (target.hasAttribute("data-flag")) {
      id = target.getAttribute("data-flag");
      var menu = target.closest("details");
      if (menu) menu.open = false;
      send(urlFor("flag", id), { reason: target.getAttribute("data-reason") }).then(function (answer) {
        notice(answer.message, answer.ok);
        if (answer.ok) { state.flags[id] = true; mark(document.getElementById("post-" + id) || document); }
      });
    } else if (target.hasAttribute("data-dismiss-flags")) {
      id = target.getAttribute("data-dismiss-flags");
      send(urlFor("dismiss", id), {}).then(function (answer) { notice(answer.message, answer.ok); });
    } else if (target.hasAttribute("data-reply")) {
      openReply(target.getAttribute("data-reply"));
    } else if (target.hasAttribute("data-reply-cancel")) {
      var form = target.closest("form");
      if (form) form.remove();
    } else if (target.hasAttribute("data-follow")) {
      var key = target.getAttribute("data-follow");
      var following = !!state.follows[key];
      send(box.getAttribute("data-follow-url"), { author: key, follow: following ? "remove" : "add" }).then(function (answer) {
        notice(answer.message, answer.ok);
        if (!answer.ok) return;
        if (following) delete state.follows[key]; else state.follows[key] = true;
        mark(panel || document);
      });
    }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target.closest(".reply-form");
    if (!form) return;
    e.preventDefault();
    var postId = form.getAttribute("data-reply-to");
    var error = form.querySelector(".error");
    var button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    send(urlFor("reply", postId), {
      body: form.querySelector("textarea").value,
      client_key: form.querySelector('input[name="client_key"]').value
    }).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) {
        error.textContent = answer.message;
        error.hidden = false;
        return;
      }
      notice(answer.message, true);
      var thread = form.closest(".thread");
      form.remove();
      // Show the conversation you just joined.
      if (thread) {
        var replies = thread.querySelector(".replies");
        if (replies && replies.hidden) thread.querySelector(".thread-toggle").click();
      }
    });
  });

  // The first render: thread the replies already on the page, then mark what is yours.
  room.querySelectorAll("#pinned > .post, #stream > .post").forEach(thread);
  if (top) refreshTop();
  loadMarks();
})();
