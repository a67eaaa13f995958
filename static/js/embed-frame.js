// Inside a jam's embed (templates/live/embed.html): tells the page around the frame that
// the embed loaded and how tall it wants to be, so static/js/embed.js on that page can fit
// the frame to it. The messages go only to the sites the host allowed and to jamhost
// itself: postMessage drops a message whose target origin is not the parent page's.
(function () {
  "use strict";
  if (window.parent === window) return;
  var node = document.getElementById("embed-parent-origins");
  var origins = [];
  try { origins = node ? JSON.parse(node.textContent) : []; } catch (err) { origins = []; }
  var content = document.querySelector(".embed");
  if (!content || !origins.length) return;
  var last = -1;

  function report() {
    // The content's own height, not the document's: a document is never shorter than
    // its frame, so it could not ask to shrink.
    var height = Math.ceil(content.getBoundingClientRect().bottom + window.scrollY + 16);
    if (height === last) return;
    last = height;
    origins.forEach(function (origin) {
      window.parent.postMessage({ type: "jamhost:embed", height: height }, origin);
    });
  }

  report();
  if (window.ResizeObserver) new ResizeObserver(report).observe(content);
  else window.setInterval(report, 1000);
})();
