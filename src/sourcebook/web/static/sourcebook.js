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

  // Sorting applies at once when chosen with the mouse or touch. With the keyboard, arrow keys
  // only move the choice (reading each option must not load a page each time): Enter, the
  // Apply button or leaving the control applies it. Without JavaScript the Apply button does.
  function setupAutosubmit(select) {
    var keyed = false;
    var pending = false;
    var apply = select.form && select.form.querySelector(".js-hide[type=submit]");
    function submit() {
      if (select.form) select.form.submit();
    }
    select.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && pending) {
        event.preventDefault();
        submit();
        return;
      }
      keyed = true;
    });
    select.addEventListener("pointerdown", function () { keyed = false; });
    select.addEventListener("change", function () {
      if (!keyed) {
        submit();
        return;
      }
      pending = true;
      if (apply) apply.classList.remove("js-hide");
    });
    select.addEventListener("blur", function () {
      if (pending) submit();
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

  // Where CSS cannot size a text box to its content, the citation box grows to show it all.
  function setupFit(field) {
    if (window.CSS && CSS.supports && CSS.supports("field-sizing", "content")) return;
    function fit() {
      field.style.height = "auto";
      field.style.height = field.scrollHeight + 2 + "px";
    }
    fit();
    window.addEventListener("resize", fit);
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("textarea.cite__text"), setupFit);
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
