// Optional enhancement: warn before leaving a page with unsaved form changes.
// A form opts in with `data-warn-unsaved`. It counts as changed when a control
// differs from its value as rendered, or when the server rendered it with
// `data-dirty` (a form re-shown with submitted but unsaved values: errors, 409).
// Submitting the form (plain or htmx) clears the warning for that form.
(function () {
  "use strict";

  function controlChanged(el) {
    if (el.disabled || !el.name) return false;
    var type = (el.type || "").toLowerCase();
    if (type === "hidden" || type === "submit" || type === "button" || type === "reset") return false;
    if (type === "checkbox" || type === "radio") return el.checked !== el.defaultChecked;
    if (type === "file") return el.files && el.files.length > 0;
    if (el.tagName === "SELECT") {
      // With no `selected` option, a single select starts on its first option.
      var hasDefault = false;
      for (var i = 0; i < el.options.length; i++) hasDefault = hasDefault || el.options[i].defaultSelected;
      for (var j = 0; j < el.options.length; j++) {
        var initial = el.options[j].defaultSelected || (!hasDefault && !el.multiple && j === 0);
        if (el.options[j].selected !== initial) return true;
      }
      return false;
    }
    return el.value !== el.defaultValue;
  }

  function formChanged(form) {
    if (form.hasAttribute("data-submitting")) return false;
    if (form.hasAttribute("data-dirty")) return true;
    for (var i = 0; i < form.elements.length; i++) {
      if (controlChanged(form.elements[i])) return true;
    }
    return false;
  }

  function anyChanged() {
    var forms = document.querySelectorAll("form[data-warn-unsaved]");
    for (var i = 0; i < forms.length; i++) {
      if (formChanged(forms[i])) return true;
    }
    return false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-warn-unsaved")) {
      form.setAttribute("data-submitting", "");
    }
  });

  function markSaved(form) {
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      var type = (el.type || "").toLowerCase();
      if (type === "checkbox" || type === "radio") el.defaultChecked = el.checked;
      else if (el.tagName === "SELECT") {
        for (var j = 0; j < el.options.length; j++) el.options[j].defaultSelected = el.options[j].selected;
      } else if (type !== "file") el.defaultValue = el.value;
    }
    form.removeAttribute("data-dirty");
  }

  // After an htmx submit the form is usually replaced (a new, clean form).
  // When it stays: a success means its values are now the saved ones; a
  // failure (network error, an error status htmx does not swap) leaves the
  // changes unsaved, so watch them again.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-warn-unsaved")) return;
    if (!form.isConnected) return;
    if (event.detail.successful) markSaved(form);
    form.removeAttribute("data-submitting");
  });

  window.addEventListener("beforeunload", function (event) {
    if (anyChanged()) {
      event.preventDefault();
      event.returnValue = "";  // older browsers need a value to show the prompt
    }
  });

  // A back/forward-cache restore brings the page back after a plain submit.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var forms = document.querySelectorAll("form[data-warn-unsaved][data-submitting]");
    for (var i = 0; i < forms.length; i++) forms[i].removeAttribute("data-submitting");
  });
})();
