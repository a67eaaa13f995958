// The replay of a past jam: parts of the transcript loaded as the reader nears them, and a
// player that shows the posts as they arrived, at 1x, 4x or 16x the original pace.
//
// Parts: every part not in the page is a placeholder (a.part-more) covering a range of a
// section's parts. Near the viewport it is swapped for what its data-src returns: one
// part and a placeholder for the rest of the range, so every part arrives once. Without
// this script a placeholder is a link to the page showing that part.
//
// Player: once used (or opened at a moment by a permalink), it fetches the transcript's
// pages (PAGE_POSTS posts each, in the order they arrived) ahead of the moment it plays,
// more pages the faster it plays, and keeps only the few it needs. If a page is late the clock waits for it: no post is skipped, none
// shown twice.
(function () {
  "use strict";
  var root = document.querySelector("[data-replay]");
  if (!root) return;

  // Parts -----------------------------------------------------------------------------
  var transcript = document.getElementById("transcript");
  var MARGIN = "1500px 0px"; // start loading a part this far before it comes into view

  function load(placeholder) {
    if (placeholder.dataset.loading) return;
    placeholder.dataset.loading = "true";
    placeholder.setAttribute("aria-busy", "true");
    var label = placeholder.textContent;
    placeholder.textContent = "Loading…";
    fetch(placeholder.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.ok || response.status === 410) return response.text();
        throw new Error(String(response.status));
      })
      .then(function (html) {
        var fragment = document.createRange().createContextualFragment(html);
        var added = Array.prototype.slice.call(fragment.querySelectorAll("a.part-more[data-src]"));
        placeholder.replaceWith(fragment);
        added.forEach(watch);
        root.dispatchEvent(new CustomEvent("replay:part-loaded"));
      })
      .catch(function () {
        // Stays a link to the part's page; tried again when it next comes near.
        placeholder.textContent = label + " (could not load; retrying)";
        placeholder.removeAttribute("aria-busy");
        delete placeholder.dataset.loading;
        window.setTimeout(function () { watch(placeholder); }, 3000);
      });
  }

  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting) {
        observer.unobserve(entry.target);
        load(entry.target);
      }
    });
  }, { rootMargin: MARGIN }) : null;

  function watch(placeholder) {
    if (observer) observer.observe(placeholder);
  }
  if (transcript) transcript.querySelectorAll("a.part-more[data-src]").forEach(watch);

  // The player ------------------------------------------------------------------------
  var player = document.getElementById("player");
  if (!player) return;
  var stream = document.getElementById("replay-stream");
  var playButton = document.getElementById("replay-play");
  var scrubber = document.getElementById("replay-scrubber");
  var clock = document.getElementById("replay-clock");
  var jump = document.getElementById("replay-jump");
  var MAX_SHOWN = 300; // older posts leave the player's stream; the transcript keeps them
  var BACKFILL = 30; // posts shown before the moment sought
  var LOOKAHEAD_MS = 10000; // of real time: pages fetched ahead of the clock
  var MAX_AHEAD = 8; // pages fetched ahead at most
  var RETRY_MS = 2000;

  var start = Date.parse(player.dataset.start);
  var total = parseFloat(player.dataset.seconds) * 1000;
  var starts = JSON.parse(player.dataset.pages || "[]"); // page n starts at starts[n - 1]
  var playUrl = player.dataset.playUrl;
  var pages = {}; // n -> {state: "loading" | "ready" | "failed", posts: [{seq, at, node}]}
  var position = 0; // ms after the start
  var speed = 1;
  var playing = false;
  var lastTick = 0;
  var cursor = { page: 1, index: 0 }; // the next post to show
  var seeking = null; // a moment to seek to once its pages are here
  var waiting = false;
  var stalls = 0;
  var primed = false; // nothing is fetched for the player until it is used

  function pageAt(ms) {
    var lo = 0;
    var hi = starts.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= ms) lo = mid + 1; else hi = mid;
    }
    return Math.max(1, lo);
  }

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return Array.prototype.map.call(template.content.querySelectorAll("article.post[data-seq]"), function (node) {
      var time = node.querySelector("time[datetime]");
      return {
        seq: parseInt(node.dataset.seq, 10),
        at: time ? Date.parse(time.getAttribute("datetime")) - start : 0,
        node: node,
      };
    });
  }

  function fetchPage(n) {
    if (n < 1 || n > starts.length) return;
    var page = pages[n];
    if (page && page.state !== "failed") return;
    pages[n] = { state: "loading", posts: [] };
    fetch(playUrl + n + "/", { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 410) {
          gone();
          throw new Error("gone");
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (!pages[n]) return; // dropped meanwhile
        pages[n] = { state: "ready", posts: parse(html) };
        settle();
        render();
      })
      .catch(function () {
        if (pages[n]) pages[n].state = "failed";
        window.setTimeout(ensure, RETRY_MS);
      });
  }

  function gone() {
    setPlaying(false);
    clock.textContent = "This transcript has been updated: reload the page";
  }

  // Fetch what the clock will need soon; forget what it has left behind.
  function ensure() {
    if (!primed) return;
    var first = seeking !== null ? Math.max(1, pageAt(seeking) - 1) : cursor.page;
    var horizon = (seeking !== null ? seeking : position) + LOOKAHEAD_MS * speed;
    var last = Math.min(starts.length, Math.max(first + 1, Math.min(pageAt(horizon) + 1, first + MAX_AHEAD)));
    for (var n = first; n <= last; n += 1) fetchPage(n);
    Object.keys(pages).forEach(function (key) {
      var n = parseInt(key, 10);
      if (n < first - 1 || n > last + 1) delete pages[key];
    });
  }

  function ready(n) {
    return !!pages[n] && pages[n].state === "ready";
  }

  function format(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var m = Math.floor(s / 60);
    s = s % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function show(post) {
    var copy = post.node.cloneNode(true);
    copy.removeAttribute("id");
    copy.dataset.replayOf = "post-" + post.seq;
    stream.appendChild(copy);
    while (stream.childElementCount > MAX_SHOWN) stream.removeChild(stream.firstElementChild);
  }

  // Show every post up to the clock, in order; stop the clock at a page not here yet.
  function advance() {
    var added = false;
    while (cursor.page <= starts.length) {
      if (!ready(cursor.page)) {
        var at = starts[cursor.page - 1];
        if (position >= at) {
          position = Math.max(0, at - 1);
          if (!waiting) {
            waiting = true;
            stalls += 1;
            player.dataset.stalls = String(stalls);
          }
        }
        break;
      }
      var posts = pages[cursor.page].posts;
      if (cursor.index >= posts.length) {
        cursor = { page: cursor.page + 1, index: 0 };
        continue;
      }
      var post = posts[cursor.index];
      if (post.at > position) break;
      show(post);
      cursor.index += 1;
      added = true;
    }
    if (waiting && (cursor.page > starts.length || ready(cursor.page))) waiting = false;
    return added;
  }

  function render() {
    if (primed && seeking === null && advance()) stream.scrollTop = stream.scrollHeight;
    player.dataset.waiting = waiting || seeking !== null ? "true" : "false";
    scrubber.value = String(Math.floor(position / 1000));
    clock.textContent = format(position) + " / " + format(total) + (waiting ? " (loading…)" : "");
  }

  // Finish a seek once the page of the moment (and the one before, for context) is here.
  function settle() {
    if (seeking === null) return;
    var n = pageAt(seeking);
    if (!ready(n) || (n > 1 && !ready(n - 1))) return;
    position = seeking;
    seeking = null;
    var before = (n > 1 ? pages[n - 1].posts : []).concat(pages[n].posts).filter(function (p) {
      return p.at <= position;
    });
    stream.textContent = "";
    before.slice(-BACKFILL).forEach(show);
    var posts = pages[n].posts;
    var index = 0;
    while (index < posts.length && posts[index].at <= position) index += 1;
    cursor = { page: n, index: index };
    stream.scrollTop = stream.scrollHeight;
    ensure();
  }

  function seek(ms) {
    primed = true;
    seeking = Math.max(0, Math.min(total, ms));
    position = seeking;
    ensure();
    settle();
    render();
  }

  function prime() {
    if (!primed) seek(position);
  }

  function tick(now) {
    if (!playing) return;
    if (seeking === null && !waiting) position += (now - lastTick) * speed;
    lastTick = now;
    if (position >= total && cursor.page > starts.length) {
      position = total;
      setPlaying(false);
    }
    ensure();
    render();
    if (playing) window.requestAnimationFrame(tick);
  }

  function setPlaying(on) {
    playing = on;
    playButton.textContent = on ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      if (position >= total) seek(0);
      else prime();
      lastTick = performance.now();
      window.requestAnimationFrame(tick);
    }
  }

  playButton.addEventListener("click", function () { setPlaying(!playing); });
  player.querySelectorAll('input[name="speed"]').forEach(function (input) {
    input.addEventListener("change", function () {
      speed = parseFloat(input.value) || 1;
      prime();
      ensure();
    });
  });
  // A reader about to play: fetch the first pages now rather than on the click.
  ["pointerenter", "focus"].forEach(function (name) {
    playButton.addEventListener(name, prime);
  });
  scrubber.addEventListener("input", function () { seek(parseFloat(scrubber.value) * 1000); });
  jump.addEventListener("change", function () { seek(parseFloat(jump.value) * 1000); });
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, select, textarea, button, a")) return;
    if (event.key === " " || event.key === "k") {
      event.preventDefault();
      setPlaying(!playing);
    }
  });

  // A permalink: the post in view and marked, the player at its moment, ready to play.
  function focus() {
    var seq = player.dataset.focusSeq;
    var target = seq ? document.getElementById("post-" + seq) : null;
    if (target) {
      target.classList.add("focused");
      if (!window.location.hash) target.scrollIntoView({ block: "center" });
    }
    if (player.dataset.focusAt) seek(parseInt(player.dataset.focusAt, 10));
    else render();
  }

  player.hidden = false;
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focus);
  } else {
    focus();
  }
})();
