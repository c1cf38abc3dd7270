// Sourcebook: small enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Copy the citation: the Clipboard API where allowed, else select the text field for Ctrl+C.
  function setupCopy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var status = button.parentElement.querySelector("[role=status]");
    function say(text) { if (status) status.textContent = text; }
    function fallback() {
      field.focus();
      field.select();
      var copied = false;
      try { copied = document.execCommand && document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.");
      button.setAttribute("data-copied", copied ? "execCommand" : "selected");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = field.value;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          say("Copied.");
          button.setAttribute("data-copied", "clipboard");
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  // Sorting applies at once with JavaScript; without it the form's Apply button does.
  function setupAutosubmit(select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.submit();
    });
  }

  // "/" focuses the search box, as on many search sites (not while typing in a field).
  function setupSlash() {
    var box = document.getElementById("q");
    if (!box) return;
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey &&
          !/^(INPUT|TEXTAREA|SELECT)$/.test(tag) && !event.target.isContentEditable) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), setupCopy);
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), setupAutosubmit);
    setupSlash();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
