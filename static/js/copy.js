// Copy buttons next to digests and identifiers. Optional: the buttons stay
// hidden without this script, and the values are plain selectable text.
// A button names its value: <button data-copy="ID" aria-label="Copy SHA-256">.
(function () {
  "use strict";

  function reveal(root) {
    (root || document).querySelectorAll("button[data-copy][hidden]").forEach(function (b) {
      b.hidden = false;
    });
  }

  function select(node) {
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function say(button, text) {
    const status = button.parentNode.querySelector(".copy-status");
    if (status) status.textContent = text;
    clearTimeout(button._copyTimer);
    button._copyTimer = setTimeout(function () {
      if (status) status.textContent = "";
    }, 4000);
  }

  function fallback(button, node) {
    select(node);
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    say(button, copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    const node = document.getElementById(button.dataset.copy);
    if (!node) return;
    const value = node.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(
        function () { say(button, "Copied."); },
        function () { fallback(button, node); }
      );
    } else {
      fallback(button, node);
    }
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // After any htmx swap (a finished build, a new key): the swapped part may
  // be the target or replace it, so look again everywhere.
  document.addEventListener("htmx:afterSettle", function () { reveal(document); });
})();
