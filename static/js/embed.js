// jamhost's embed, on the site that shows it (the optional script of the snippet the
// jam's host copies): fits each jamhost frame to the height of what it shows, up to the
// snippet's height, and says so in words when the browser refused to show the jam here
// (a site its host did not allow: the browser then shows only an error in the frame).
// It believes a message only from the frame's own window and jamhost's own origin.
(function () {
  "use strict";
  if (window.jamhostEmbedRunning) return; // the snippet pasted twice on one page
  window.jamhostEmbedRunning = true;
  var TYPE = "jamhost:embed";
  var GRACE = 2500; // after the frame's load event, for its first message to arrive
  var LONGEST = 15000; // a frame that never says it loaded

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll("iframe[data-jamhost-embed]"));
  }

  function frameUrl(frame) {
    try { return new URL(frame.getAttribute("src") || "", window.location.href); } catch (err) { return null; }
  }

  window.addEventListener("message", function (e) {
    var data = e.data;
    if (!data || typeof data !== "object" || data.type !== TYPE) return;
    frames().forEach(function (frame) {
      var url = frameUrl(frame);
      if (!url || frame.contentWindow !== e.source || url.origin !== e.origin) return;
      frame.setAttribute("data-jamhost-state", "shown");
      var notice = frame.nextElementSibling;
      if (notice && notice.hasAttribute("data-jamhost-refused")) notice.remove();
      frame.style.display = "";
      var cap = parseInt(frame.getAttribute("height") || "600", 10) || 600;
      var height = parseInt(data.height, 10);
      if (height > 0) frame.style.height = Math.min(height, cap) + "px";
    });
  });

  function refuse(frame) {
    if (frame.getAttribute("data-jamhost-state") === "shown") return;
    if (frame.getAttribute("data-jamhost-state") === "refused" || !frame.parentNode) return;
    frame.setAttribute("data-jamhost-state", "refused");
    var url = frameUrl(frame);
    var notice = document.createElement("p");
    notice.setAttribute("data-jamhost-refused", "");
    notice.setAttribute("role", "alert");
    notice.style.cssText = "border:1px solid #b3261e;border-radius:8px;padding:.75em 1em;font:inherit;";
    notice.appendChild(document.createTextNode(
      "This jam cannot be shown on this site: its host has not allowed " +
      window.location.origin + " to show it (or the jam is not public). "));
    if (url) {
      var link = document.createElement("a");
      link.href = url.origin + url.pathname.replace(/\/embed\/$/, "/live/");
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = "Open the jam on jamhost";
      notice.appendChild(link);
    }
    frame.style.display = "none";
    frame.parentNode.insertBefore(notice, frame.nextSibling);
  }

  function watch(frame) {
    if (frame.hasAttribute("data-jamhost-state")) return;
    frame.setAttribute("data-jamhost-state", "waiting");
    // The frame's load event fires for a refused frame too (with the browser's error in
    // it); a frame jamhost showed has said so by then, give or take a moment.
    frame.addEventListener("load", function () {
      window.setTimeout(function () { refuse(frame); }, GRACE);
    });
    window.setTimeout(function () { refuse(frame); }, LONGEST);
  }

  function start() { frames().forEach(watch); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
