// Upload progress for the import form. Optional: without it the form posts as usual.
(function () {
  "use strict";

  function setup(form) {
    if (!window.XMLHttpRequest || !window.FormData) return;
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length) return; // let the server say why
      event.preventDefault();
      var box = form.querySelector(".upload-progress");
      var bar = box && box.querySelector("progress");
      var text = box && box.querySelector(".upload-progress-text");
      var button = form.querySelector("button[type=submit]");
      if (box) box.hidden = false;
      if (button) button.disabled = true;

      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      // The view answers like to htmx: an HX-Redirect, or the form with its errors.
      xhr.setRequestHeader("HX-Request", "true");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || !bar) return;
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        if (text) text.textContent = "Uploading… " + percent + "%";
      });
      xhr.upload.addEventListener("load", function () {
        if (text) text.textContent = "Uploaded; importing…";
      });
      xhr.addEventListener("load", function () {
        var target = xhr.getResponseHeader("HX-Redirect");
        if (target) {
          window.location.assign(target);
          return;
        }
        // 4xx: the form with its errors; 503: the form saying the job queue is down.
        var answered = (xhr.status >= 400 && xhr.status < 500) || xhr.status === 503;
        if (answered && xhr.responseText.indexOf("import-form") !== -1) {
          var holder = document.createElement("div");
          holder.innerHTML = xhr.responseText;
          var fresh = holder.querySelector("#import-form");
          if (fresh) {
            form.replaceWith(fresh);
            setup(fresh);
            return;
          }
        }
        fail(form, "The import failed (HTTP " + xhr.status + "). Try again, or reload the page.");
      });
      xhr.addEventListener("error", function () {
        fail(form, "The upload was interrupted. Check the connection and try again.");
      });
      xhr.send(new FormData(form));
    });
  }

  function fail(form, message) {
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = false;
    var text = form.querySelector(".upload-progress-text");
    if (text) {
      text.textContent = message;
      text.classList.add("error");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-import-upload]").forEach(setup);
  });
})();
