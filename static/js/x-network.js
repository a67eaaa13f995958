// Shows the "Retry" button of a post that failed to reach X to its author. Live fragments
// are rendered once for all viewers, so the server cannot tailor them per person.
(function () {
  "use strict";
  var me = document.body.getAttribute("data-me");
  if (!me) return;
  function reveal(root) {
    root.querySelectorAll("button.x-retry[hidden]").forEach(function (el) {
      if (el.getAttribute("data-retry-author") === me) el.hidden = false;
    });
  }
  reveal(document);
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.querySelectorAll) reveal(node); });
    });
  }).observe(document.body, { childList: true, subtree: true });
})();
