// The live room's glue: the rev cursor for lossless reconnects, applying frames in order
// without duplicates, pause with "N new", newest-first, the connection indicator (which
// also tells the jam's status: never "live" for a jam that has ended), parts of the room
// that follow the jam's status, the host's confirmations, and "N new below" for a viewer
// scrolled away from where posts arrive.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  if (!room) return;

  var lastRev = parseInt(room.getAttribute("data-rev") || "0", 10);
  var stream = document.getElementById("stream");
  var pinned = document.getElementById("pinned");
  var status = document.getElementById("connection-status");
  var pauseButton = document.getElementById("pause-toggle");
  var newButton = document.getElementById("new-posts");
  var order = document.getElementById("newest-first");
  var arrivals = document.getElementById("arrivals");
  var removed = {}; // post id -> rev of its removal, so a stale frame cannot bring it back
  var paused = false;
  var held = [];
  var connection = "connecting"; // connecting, catching-up, open, reconnecting
  var LABELS = { connecting: "connecting…", "catching-up": "catching up…", reconnecting: "reconnecting…" };

  // Every connect and reconnect asks for what changed after the last rev applied.
  htmx.createWebSocket = function (url) {
    var u = new URL(url, window.location.href);
    u.searchParams.set("after", String(lastRev));
    return new WebSocket(u.toString());
  };

  function setStatus(state, text) {
    if (!status) return;
    status.setAttribute("data-state", state);
    status.textContent = text;
  }

  function jamStatus() {
    var header = document.getElementById("jam-header");
    return header ? header.getAttribute("data-status") || "" : "";
  }

  // One indicator for both: the jam's status decides what "up to date" is called, and an
  // ended jam says so whatever the socket is doing.
  function showStatus() {
    var jam = jamStatus();
    if (jam) room.setAttribute("data-jam-status", jam);
    // "Release next question" shows only while there is one (the header names it).
    var header = document.getElementById("jam-header");
    if (header) room.setAttribute("data-questions-left", header.hasAttribute("data-next-label") ? "yes" : "no");
    if (jam === "ended" || jam === "archived") setStatus("ended", "ended");
    else if (connection === "open") setStatus(jam === "live" ? "live" : "connected", jam === "live" ? "live" : "connected");
    else setStatus(connection, LABELS[connection]);
  }

  function setConnection(state) {
    connection = state;
    showStatus();
    room.dispatchEvent(new CustomEvent("jamhost:connection", { detail: state, bubbles: true }));
  }

  function revOf(el) { return parseInt(el.getAttribute("data-rev") || "0", 10); }
  function seqOf(el) { return parseInt(el.getAttribute("data-seq") || "0", 10); }

  function insertInOrder(container, el) {
    var seq = seqOf(el);
    var last = container.lastElementChild;
    if (!last || seqOf(last) < seq) { container.appendChild(el); return; }
    var child = container.firstElementChild;
    while (child && seqOf(child) < seq) child = child.nextElementSibling;
    container.insertBefore(el, child);
  }

  function placePost(el, arriving) {
    var container = el.getAttribute("data-pinned") === "true" ? pinned : stream;
    var following = arriving && container === stream && followingEdge();
    insertInOrder(container, el);
    htmx.process(el);
    if (window.jamhostTime) window.jamhostTime.localize(el);
    var empty = document.getElementById("stream-empty");
    if (empty) empty.remove();
    room.dispatchEvent(new CustomEvent("jamhost:post", { detail: el, bubbles: true }));
    if (arriving) arrived(el, following);
  }

  function applyPost(el) {
    var id = el.id;
    var rev = revOf(el);
    if (removed[id] !== undefined && removed[id] >= rev) return;
    var existing = document.getElementById(id);
    if (existing) {
      if (revOf(existing) >= rev) return;
      existing.remove();
      placePost(el, false);
    } else if (paused) {
      held.push(el);
      newButton.hidden = false;
      newButton.textContent = held.length + " new";
    } else {
      placePost(el, true);
    }
  }

  function applyRemoval(el) {
    var id = "post-" + el.getAttribute("data-post");
    var rev = revOf(el);
    removed[id] = Math.max(removed[id] || 0, rev);
    var existing = document.getElementById(id);
    if (existing && revOf(existing) < rev) existing.remove();
    held = held.filter(function (h) { return h.id !== id; });
    if (paused) newButton.textContent = held.length + " new";
  }

  function applyHeader(el) {
    var current = document.getElementById("jam-header");
    if (current && revOf(current) >= revOf(el)) return;
    if (current) current.replaceWith(el); else room.prepend(el);
    if (window.jamhostTime) window.jamhostTime.localize(el);
    showStatus();
    room.dispatchEvent(new CustomEvent("jamhost:header", { detail: el, bubbles: true }));
  }

  // A poll: replaced when newer than the one shown; a new one goes first in #polls.
  function applyPoll(el) {
    var existing = document.getElementById(el.id);
    if (existing) {
      if (revOf(existing) >= revOf(el)) return;
      existing.replaceWith(el);
    } else {
      var polls = document.getElementById("polls");
      if (!polls) return;
      polls.prepend(el);
    }
    if (window.jamhostTime) window.jamhostTime.localize(el);
    room.dispatchEvent(new CustomEvent("jamhost:poll", { detail: el, bubbles: true }));
  }

  function apply(message) {
    var tpl = document.createElement("template");
    tpl.innerHTML = message;
    Array.prototype.slice.call(tpl.content.children).forEach(function (el) {
      var rev = revOf(el);
      if (el.classList.contains("post")) applyPost(el);
      else if (el.classList.contains("post-removed")) applyRemoval(el);
      else if (el.id === "jam-header") applyHeader(el);
      else if (el.classList.contains("poll")) applyPoll(el);
      else if (el.classList.contains("caught-up")) setConnection("open");
      else if (el.id) {
        var target = document.getElementById(el.id);
        if (target) target.replaceWith(el);
      }
      if (rev > lastRev) lastRev = rev;
    });
    room.setAttribute("data-rev", String(lastRev));
  }

  document.body.addEventListener("htmx:wsBeforeMessage", function (e) {
    e.preventDefault();
    apply(e.detail.message);
  });
  document.body.addEventListener("htmx:wsConnecting", function () { setConnection(connection === "connecting" ? "connecting" : "reconnecting"); });
  document.body.addEventListener("htmx:wsOpen", function () { setConnection("catching-up"); });
  document.body.addEventListener("htmx:wsClose", function () { setConnection("reconnecting"); });
  document.body.addEventListener("htmx:wsError", function () { setConnection("reconnecting"); });
  showStatus();

  function resume() {
    paused = false;
    pauseButton.setAttribute("aria-pressed", "false");
    pauseButton.textContent = "Pause";
    var queue = held;
    held = [];
    queue.sort(function (a, b) { return seqOf(a) - seqOf(b); }).forEach(function (el) {
      if (!document.getElementById(el.id)) placePost(el, false);
    });
    newButton.hidden = true;
  }

  pauseButton.addEventListener("click", function () {
    if (paused) { resume(); return; }
    paused = true;
    pauseButton.setAttribute("aria-pressed", "true");
    pauseButton.textContent = "Resume";
    newButton.textContent = "0 new";
    newButton.hidden = false;
  });
  newButton.addEventListener("click", resume);

  // The order is the reader's choice, remembered; an embed's comes from its snippet
  // (data-order), and a frame on another site may not be allowed storage at all.
  var key = "jamhost:newest-first";
  var fixedOrder = room.getAttribute("data-order");
  function applyOrder() { room.classList.toggle("newest-first", order.checked); }
  order.checked = fixedOrder ? fixedOrder === "newest" : window.localStorage.getItem(key) === "1";
  applyOrder();
  order.addEventListener("change", function () {
    if (!fixedOrder) window.localStorage.setItem(key, order.checked ? "1" : "0");
    applyOrder();
  });

  // "N new below": a post arriving where the viewer is not looking is counted, and the
  // count says where (below, or above with newest first). A viewer at the arrival edge
  // keeps seeing the newest post; scrolling to it, or the button, clears the count.
  var unseen = [];

  function visibleBottom() {
    // The compose box sits over the bottom of the window (sticky) when it is stuck there.
    var compose = document.getElementById("compose");
    if (!compose || compose.offsetParent === null) return window.innerHeight;
    var top = compose.getBoundingClientRect().top;
    return top > 0 && top < window.innerHeight ? top : window.innerHeight;
  }

  function inView(el) {
    var r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < visibleBottom() - 4;
  }

  // The newest post: last in the stream, shown at its bottom (or top, newest first).
  function edgePost() {
    var posts = stream.querySelectorAll(":scope > .post:not([hidden])");
    return posts.length ? posts[posts.length - 1] : null;
  }

  // Before a post is placed: is the viewer looking at the edge where it will arrive?
  function followingEdge() {
    if (!arrivals || room.hasAttribute("data-screen")) return true;
    var edge = edgePost();
    return !edge || inView(edge);
  }

  function showArrivals() {
    unseen = unseen.filter(function (el) { return el.isConnected && !el.hidden && !inView(el); });
    if (!arrivals) return;
    arrivals.hidden = unseen.length === 0;
    if (!unseen.length) return;
    var where = order.checked ? "above ↑" : "below ↓";
    arrivals.textContent = unseen.length + " new post" + (unseen.length === 1 ? "" : "s") + " " + where;
  }

  function arrived(el, following) {
    if (!arrivals || room.hasAttribute("data-screen")) return;
    if (el.offsetParent === null) return; // threaded into a closed side conversation
    if (inView(el)) return;
    if (following && !order.checked) {
      // The viewer was reading the newest posts: keep the newest in view.
      var overlap = el.getBoundingClientRect().bottom - visibleBottom() + 8;
      if (overlap > 0) window.scrollBy(0, overlap);
      if (inView(el)) return;
    }
    unseen.push(el);
    showArrivals();
  }

  if (arrivals) {
    var pending = false;
    window.addEventListener("scroll", function () {
      if (pending || !unseen.length) return;
      pending = true;
      window.requestAnimationFrame(function () { pending = false; showArrivals(); });
    }, { passive: true });
    arrivals.addEventListener("click", function () {
      var first = unseen.slice().sort(function (a, b) { return seqOf(a) - seqOf(b); })[0];
      if (first) first.scrollIntoView({ block: "center" });
      unseen = [];
      showArrivals();
      if (first) {
        first.setAttribute("tabindex", "-1");
        first.focus({ preventScroll: true });
      }
    });
  }

  // The host's controls: ending the jam, and releasing the next question before its time,
  // ask first. (A question already due goes out without a question.)
  function untilNext() {
    var header = document.getElementById("jam-header");
    var at = header ? Date.parse(header.getAttribute("data-next-at") || "") : NaN;
    return { label: header ? header.getAttribute("data-next-label") || "the next question" : "", seconds: isNaN(at) ? 0 : Math.round((at - Date.now()) / 1000) };
  }
  function spell(seconds) {
    if (seconds >= 3600) return Math.floor(seconds / 3600) + " h " + Math.round((seconds % 3600) / 60) + " min";
    if (seconds >= 60) return Math.round(seconds / 60) + " min";
    return seconds + " s";
  }
  room.addEventListener("submit", function (e) {
    var form = e.target;
    // A refusal that names times (an extension running into another jam's hashtag) is
    // told in the host's zone.
    form.querySelectorAll("input[data-time-zone]").forEach(function (input) {
      try { input.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (err) { input.value = ""; }
    });
    var message = form.getAttribute("data-confirm");
    if (form.hasAttribute("data-confirm-early")) {
      var next = untilNext();
      message = next.seconds > 0 ? "Release " + next.label + " now, " + spell(next.seconds) + " before its time?" : "";
    }
    if (message && !window.confirm(message)) e.preventDefault();
  });

  // Keep the compose box's question list in step with released questions.
  room.addEventListener("jamhost:header", function () {
    var select = document.getElementById("compose-question");
    if (!select) return;
    var have = {};
    Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
    document.querySelectorAll("#question-list li[data-number]").forEach(function (li) {
      var n = li.getAttribute("data-number");
      if (have[n]) return;
      var option = document.createElement("option");
      option.value = n;
      option.textContent = "A" + n + ": " + li.textContent.trim().replace(/^Q\d+\s*/, "").slice(0, 40);
      select.appendChild(option);
    });
  });
})();
