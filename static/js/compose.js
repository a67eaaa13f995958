// The compose box never fails silently. Whatever happens to a post (no connection, no
// answer in time, an error answer), the box says what happened and keeps the text and its
// client key, and the next press of Post (or Ctrl/Cmd+Enter) sends it again: the server
// stores a key once, so a post that did get through the first time is not stored twice.
// The text also survives a reload or a log-in (a draft per room in sessionStorage). While
// the room's connection is down the box says so. On a phone it stays one line until used.
(function () {
  "use strict";
  var room = document.querySelector("[data-live-room]");
  if (!room) return;
  var DRAFT = "jamhost:draft:" + window.location.pathname;
  var connectionNote = "";

  function form() { return document.getElementById("compose"); }
  function box() { var f = form(); return f ? f.querySelector("textarea[name=body]") : null; }
  function isPost(elt) { return elt && elt.id === "compose"; }

  function say(text, kind) {
    var el = document.getElementById("compose-status");
    if (!el) return;
    el.textContent = text || "";
    el.hidden = !text;
    el.className = "compose-status" + (kind ? " " + kind : "");
    if (!text) el.removeAttribute("role");
    else el.setAttribute("role", kind === "error" ? "alert" : "status");
    if (text) expand();
  }

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function saveDraft() {
    var s = storage(), b = box();
    if (!s || !b) return;
    if (b.value.trim()) s.setItem(DRAFT, b.value); else s.removeItem(DRAFT);
  }

  // Collapse: a CSS matter on small screens only (jamhost.css); here, when it applies.
  function expand() { var f = form(); if (f) f.classList.remove("collapsed"); }
  function collapseIfIdle() {
    var f = form(), b = box();
    if (!f || !b || f.contains(document.activeElement) || b.value.trim()) return;
    if (showingError() || f.querySelector("p.error:not(#compose-status)")) return;
    f.classList.add("collapsed");
  }

  // After the page loads and after every swap of the box (a post went out, or the server
  // answered with the text and an error): bring back a draft the server did not have.
  function settle() {
    var f = form(), b = box();
    if (!f || !b) return;
    var s = storage();
    if (f.querySelector(".ok[role=status]")) {
      if (s) s.removeItem(DRAFT); // posted: the draft is done with
    } else if (!b.value && s && s.getItem(DRAFT)) {
      b.value = s.getItem(DRAFT);
      b.dispatchEvent(new Event("input", { bubbles: true })); // the counter follows
    }
    if (b.value.trim() || f.querySelector("p.error")) expand();
    if (connectionNote && !showingError()) say(connectionNote, "warn");
  }

  function retryAfter(xhr) {
    var seconds = parseInt((xhr && xhr.getResponseHeader("Retry-After")) || "", 10);
    return isNaN(seconds) ? 0 : seconds;
  }

  function failure(kind, xhr) {
    var kept = " Your text is still here; press Post to send it again.";
    if (kind === "timeout") {
      return "No answer from jamhost in time, so it may or may not have gone out." + kept +
        " It will not be posted twice.";
    }
    if (kind === "network" || !xhr || !xhr.status) {
      return "No connection to jamhost: your post may not have gone out." + kept +
        " It will not be posted twice.";
    }
    var status = xhr.status;
    if (status === 429 || status === 503) {
      var wait = retryAfter(xhr);
      return "Not posted: jamhost is busy." + (wait ? " Try again in " + wait + " s." : " Try again in a moment.") +
        " Your text is still here.";
    }
    if (status === 403) {
      return "Not posted: this page is out of date or you were logged out. Reload the page (your text is kept) and post again.";
    }
    if (status === 413) return "Not posted: the post is too long to send. Shorten it and press Post again.";
    return "Not posted: jamhost had a problem (" + status + ")." + kept;
  }

  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (!isPost(e.detail.elt)) return;
    // What the last answer said ("Posted.", a refusal) is about the last try, not this one.
    e.detail.elt.querySelectorAll(":scope > p.ok, :scope > p.error").forEach(function (el) {
      if (el.id !== "compose-status") el.remove();
    });
    say("Posting…", "pending");
  });
  function failed(kind) {
    return function (e) {
      // Only the post goes to the server: the counter counts in the browser.
      if (isPost(e.detail.elt)) say(failure(kind, e.detail.xhr), "error");
    };
  }
  document.body.addEventListener("htmx:sendError", failed("network"));
  document.body.addEventListener("htmx:timeout", failed("timeout"));
  document.body.addEventListener("htmx:responseError", failed("response"));
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (isPost(e.detail.elt) || (e.detail.target && e.detail.target.id === "compose")) settle();
  });

  // The room's socket: while it is down, posts may not go out either.
  function showingError() {
    var status = document.getElementById("compose-status");
    return !!(status && !status.hidden && status.classList.contains("error"));
  }
  room.addEventListener("jamhost:connection", function (e) {
    if (e.detail === "reconnecting") {
      if (connectionNote) return; // each failed attempt says it again; once is enough
      connectionNote = "Connection lost: reconnecting… You can keep writing; if posting fails, your text stays here.";
      if (!showingError()) say(connectionNote, "warn"); // what happened to a post matters more
    } else if (e.detail === "open" && connectionNote) {
      connectionNote = "";
      var status = document.getElementById("compose-status");
      if (status && status.classList.contains("warn")) say("", "");
    }
  });

  document.addEventListener("input", function (e) {
    if (e.target === box()) saveDraft();
  });
  document.addEventListener("focusin", function (e) {
    var f = form();
    if (f && f.contains(e.target)) expand();
  });
  document.addEventListener("focusout", function (e) {
    var f = form();
    if (f && f.contains(e.target)) window.setTimeout(collapseIfIdle, 150);
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends the compose box or a reply.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || e.isComposing) return;
    var target = e.target;
    if (!target || target.tagName !== "TEXTAREA" || !target.form) return;
    if (target.form.id !== "compose" && !target.form.classList.contains("reply-form")) return;
    e.preventDefault();
    target.form.requestSubmit();
  });

  settle();
})();
