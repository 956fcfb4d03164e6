// Optional: the options table matters only for select and radio fields.
// Without this script every control is simply always shown.
(function () {
  "use strict";
  function sync(root) {
    var form = root.querySelector ? root.querySelector("#field-form") : null;
    if (!form) return;
    var type = form.querySelector("select[name=type]");
    var options = form.querySelector("#options");
    if (!type || !options) return;
    var apply = function () {
      options.hidden = type.value !== "select" && type.value !== "radio";
    };
    type.addEventListener("change", apply);
    apply();
  }
  document.addEventListener("DOMContentLoaded", function () { sync(document); });
  document.addEventListener("htmx:afterSettle", function () { sync(document); });
})();
