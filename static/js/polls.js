// Voting in the room's polls. The poll fragment is the same for everyone (live.js swaps
// in each new state); what is yours — may you vote, which option you chose — is added
// here. A refusal (closed, no such option) is told beside the poll.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  var box = document.getElementById("polls");
  if (!room || !box || !box.hasAttribute("data-can-vote")) return;
  var mine = {}; // poll id -> the position you voted for

  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  var closeUrl = box.getAttribute("data-close-url");

  function prepare(poll) {
    var open = poll.getAttribute("data-state") === "open";
    if (closeUrl && open && !poll.querySelector(".poll-close")) {
      var close = document.createElement("button");
      close.type = "button";
      close.className = "poll-close";
      close.textContent = "Close the poll now";
      poll.querySelector(".poll-meta").appendChild(close);
    }
    var chosen = mine[poll.getAttribute("data-poll")];
    poll.querySelectorAll(".poll-choose").forEach(function (button) {
      button.disabled = !open;
      var isMine = chosen !== undefined && button.value === chosen;
      button.setAttribute("aria-pressed", isMine ? "true" : "false");
      button.closest(".poll-option").classList.toggle("poll-mine", isMine);
    });
  }

  function tell(poll, text, ok) {
    var notice = poll.querySelector(".poll-notice");
    if (!notice) return;
    notice.hidden = !text;
    notice.textContent = text || "";
    notice.className = "poll-notice " + (ok ? "ok" : "error");
  }

  box.addEventListener("click", function (e) {
    var closing = e.target.closest(".poll-close");
    if (closing) {
      var target = closing.closest(".poll");
      if (!window.confirm("Close this poll now, for everyone?")) return;
      fetch(closeUrl.replace("/polls/0/", "/polls/" + target.getAttribute("data-poll") + "/"), {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() }
      }).then(function (r) {
        if (!r.ok) tell(target, "The poll could not be closed (" + r.status + ").", false);
      });
      return;
    }
    var button = e.target.closest(".poll-choose");
    if (!button || button.disabled) return;
    var poll = button.closest(".poll");
    var id = poll.getAttribute("data-poll");
    fetch(poll.getAttribute("data-vote-url"), {
      method: "POST",
      body: new URLSearchParams({ option: button.value }),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, message: "The vote did not go through (" + r.status + "); try again." }; });
    }).then(function (answer) {
      var current = document.getElementById("poll-" + id) || poll;
      if (answer.ok) mine[id] = button.value;
      prepare(current);
      tell(current, answer.message, answer.ok);
    }).catch(function () {
      tell(document.getElementById("poll-" + id) || poll, "No connection: the vote was not sent. Try again.", false);
    });
  });

  room.addEventListener("jamhost:poll", function (e) { prepare(e.detail); });
  box.querySelectorAll(".poll").forEach(prepare);
  // Your votes from before this page was loaded (another tab, a reload).
  var mineUrl = box.getAttribute("data-mine-url");
  if (mineUrl) {
    fetch(mineUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { votes: {} }; })
      .then(function (answer) {
        Object.keys(answer.votes || {}).forEach(function (id) {
          if (mine[id] === undefined) mine[id] = String(answer.votes[id]);
        });
        box.querySelectorAll(".poll").forEach(prepare);
      })
      .catch(function () {});
  }
})();
