// Replay player: shows a past jam's posts as they arrived, at 1x, 4x or 16x the
// original pace. It reuses the transcript's own post elements (the live fragment),
// cloned into the player's stream, so the page carries each post once.
(function () {
  "use strict";
  var root = document.querySelector("[data-replay]");
  if (!root) return;
  var player = document.getElementById("player");
  if (!player) return;
  var stream = document.getElementById("replay-stream");
  var playButton = document.getElementById("replay-play");
  var scrubber = document.getElementById("replay-scrubber");
  var clock = document.getElementById("replay-clock");
  var jump = document.getElementById("replay-jump");
  var MAX_SHOWN = 300; // older posts leave the player's stream; the transcript keeps them

  var start = 0;
  var total = 0;
  var posts = [];
  var position = 0; // ms after the start
  var speed = 1;
  var playing = false;
  var shown = 0; // posts[0..shown) are in the stream
  var lastTick = 0;

  function collect() {
    start = Date.parse(player.dataset.start);
    total = parseFloat(player.dataset.seconds) * 1000;
    var nodes = document.querySelectorAll("#transcript article.post[data-seq]");
    posts = Array.prototype.map.call(nodes, function (node) {
      var time = node.querySelector("time[datetime]");
      return {
        seq: parseInt(node.dataset.seq, 10),
        at: time ? Date.parse(time.getAttribute("datetime")) - start : 0,
        node: node,
      };
    });
    posts.sort(function (a, b) { return a.seq - b.seq; });
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
    copy.dataset.replayOf = post.node.id;
    stream.appendChild(copy);
    while (stream.childElementCount > MAX_SHOWN) stream.removeChild(stream.firstElementChild);
  }

  function render() {
    var added = false;
    while (shown < posts.length && posts[shown].at <= position) {
      show(posts[shown]);
      shown += 1;
      added = true;
    }
    if (added) stream.scrollTop = stream.scrollHeight;
    scrubber.value = String(Math.floor(position / 1000));
    clock.textContent = format(position) + " / " + format(total);
  }

  function seek(ms) {
    position = Math.max(0, Math.min(total, ms));
    stream.textContent = "";
    shown = 0;
    // Only the last MAX_SHOWN posts before the new position are drawn.
    while (shown < posts.length && posts[shown].at <= position) shown += 1;
    for (var i = Math.max(0, shown - MAX_SHOWN); i < shown; i += 1) show(posts[i]);
    stream.scrollTop = stream.scrollHeight;
    render();
  }

  function tick(now) {
    if (!playing) return;
    position += (now - lastTick) * speed;
    lastTick = now;
    if (position >= total) {
      position = total;
      setPlaying(false);
    }
    render();
    if (playing) window.requestAnimationFrame(tick);
  }

  function setPlaying(on) {
    playing = on;
    playButton.textContent = on ? "Pause" : "Play";
    playButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (on) {
      if (position >= total) seek(0);
      lastTick = performance.now();
      window.requestAnimationFrame(tick);
    }
  }

  playButton.addEventListener("click", function () { setPlaying(!playing); });
  player.querySelectorAll('input[name="speed"]').forEach(function (input) {
    input.addEventListener("change", function () { speed = parseFloat(input.value) || 1; });
  });
  scrubber.addEventListener("input", function () { seek(parseFloat(scrubber.value) * 1000); });
  jump.addEventListener("change", function () { seek(parseFloat(jump.value) * 1000); });
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, select, textarea, button")) return;
    if (event.key === " " || event.key === "k") {
      event.preventDefault();
      setPlaying(!playing);
    }
  });

  function ready() {
    collect();
    player.hidden = false;
    render();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
