// The live room's glue: the rev cursor for lossless reconnects, applying frames in order
// without duplicates, pause with "N new", newest-first, and the connection indicator.
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
  var removed = {}; // post id -> rev of its removal, so a stale frame cannot bring it back
  var paused = false;
  var held = [];

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

  function placePost(el) {
    var container = el.getAttribute("data-pinned") === "true" ? pinned : stream;
    insertInOrder(container, el);
    htmx.process(el);
    if (window.jamhostTime) window.jamhostTime.localize(el);
    var empty = document.getElementById("stream-empty");
    if (empty) empty.remove();
    room.dispatchEvent(new CustomEvent("jamhost:post", { detail: el, bubbles: true }));
  }

  function applyPost(el) {
    var id = el.id;
    var rev = revOf(el);
    if (removed[id] !== undefined && removed[id] >= rev) return;
    var existing = document.getElementById(id);
    if (existing) {
      if (revOf(existing) >= rev) return;
      existing.remove();
      placePost(el);
    } else if (paused) {
      held.push(el);
      newButton.hidden = false;
      newButton.textContent = held.length + " new";
    } else {
      placePost(el);
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
    room.dispatchEvent(new CustomEvent("jamhost:header", { detail: el, bubbles: true }));
  }

  function apply(message) {
    var tpl = document.createElement("template");
    tpl.innerHTML = message;
    Array.prototype.slice.call(tpl.content.children).forEach(function (el) {
      var rev = revOf(el);
      if (el.classList.contains("post")) applyPost(el);
      else if (el.classList.contains("post-removed")) applyRemoval(el);
      else if (el.id === "jam-header") applyHeader(el);
      else if (el.classList.contains("caught-up")) setStatus("live", "live");
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
  document.body.addEventListener("htmx:wsConnecting", function () { setStatus("connecting", "connecting…"); });
  document.body.addEventListener("htmx:wsOpen", function () { setStatus("catching-up", "catching up…"); });
  document.body.addEventListener("htmx:wsClose", function () { setStatus("reconnecting", "reconnecting…"); });
  document.body.addEventListener("htmx:wsError", function () { setStatus("reconnecting", "reconnecting…"); });

  function resume() {
    paused = false;
    pauseButton.setAttribute("aria-pressed", "false");
    pauseButton.textContent = "Pause";
    var queue = held;
    held = [];
    queue.sort(function (a, b) { return seqOf(a) - seqOf(b); }).forEach(function (el) {
      if (!document.getElementById(el.id)) placePost(el);
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

  var key = "jamhost:newest-first";
  function applyOrder() { room.classList.toggle("newest-first", order.checked); }
  order.checked = window.localStorage.getItem(key) === "1";
  applyOrder();
  order.addEventListener("change", function () {
    window.localStorage.setItem(key, order.checked ? "1" : "0");
    applyOrder();
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
