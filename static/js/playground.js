// The Try it tab: send a chat message and show the answer as it streams
// (Server-Sent Events read from a fetch() body), with a stop button. Without
// JavaScript the form posts normally and the page shows the whole answer.
// The other panels post with htmx and swap only their result region; their
// refusals (403, 413, 415, 502) are swapped in too, so the message shows.
(function () {
  "use strict";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function figure(dl, label, value, id) {
    var box = el("div");
    box.appendChild(el("dt", "", label));
    var dd = el("dd", "", value);
    dd.id = id;
    box.appendChild(dd);
    dl.appendChild(box);
  }

  function showOutcome(result, data) {
    result.textContent = "";
    var box = el("div", "try-outcome");
    box.id = "chat-outcome";
    if (data.error) {
      var p = el("p", "notice error", (data.error.error_type ? data.error.error_type + ": " : "") + (data.error.message || "error"));
      p.id = "chat-error";
      p.setAttribute("role", "alert");
      box.appendChild(p);
    }
    var dl = el("dl", "try-figures");
    var usage = data.usage || {};
    figure(dl, "First token", data.first_chunk_ms != null ? data.first_chunk_ms + " ms" : "–", "fig-ttft");
    figure(dl, "Total", data.total_ms != null ? data.total_ms + " ms" : "–", "fig-total");
    figure(dl, "Tokens in / out", (usage.prompt_tokens ?? "–") + " / " + (usage.completion_tokens ?? "–"), "fig-tokens");
    figure(dl, "Cost (from the pricing YAML)", data.cost ? data.cost.total + " " + data.cost.currency : "–", "fig-cost");
    box.appendChild(dl);
    if (data.tool_calls && data.tool_calls.length) {
      box.appendChild(el("p", "", "Tool calls:"));
      var calls = el("pre", "try-trace", JSON.stringify(data.tool_calls, null, 2));
      calls.id = "chat-tools-called";
      box.appendChild(calls);
    }
    if (data.trace) {
      var details = el("details");
      details.appendChild(el("summary", "", "What happened"));
      var pre = el("pre", "try-trace", data.trace);
      pre.id = "chat-trace";
      details.appendChild(pre);
      box.appendChild(details);
    }
    result.appendChild(box);
  }

  // A panel's refusal is its result region with a message: swap it in. A 404
  // (the session ended) is a whole page: say so instead.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var status = event.detail.xhr.status;
    if (!target || !/-result$/.test(target.id) || status < 400) return;
    if (status === 404) {
      var gone = el("p", "notice error", "This session has ended (idle, a new build, or ended elsewhere). Reload the page to start another.");
      gone.setAttribute("role", "alert");
      target.textContent = "";
      target.appendChild(gone);
      event.detail.shouldSwap = false;
      return;
    }
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  });

  function visionField(form) {
    var field = document.getElementById("chat-image-field");
    var select = form.elements.model;
    if (!field || !select) return;
    function update() {
      var option = select.options[select.selectedIndex];
      var vision = option && option.dataset.vision === "1";
      field.hidden = !vision;
      if (!vision) form.elements.image.value = "";
    }
    select.addEventListener("change", update);
    update();
  }

  function setUp() {
    var form = document.getElementById("chat-form");
    if (form) visionField(form);
    if (!form || !window.fetch || !window.TextDecoder) return;
    var log = document.getElementById("try-log");
    var result = document.getElementById("chat-result");
    var send = document.getElementById("chat-send");
    var stop = document.getElementById("chat-stop");
    var history = document.getElementById("chat-history");
    var controller = null;

    stop.addEventListener("click", function () {
      if (controller) controller.abort();
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var message = form.elements.message.value;
      if (!message.trim()) return;
      var body = new FormData(form);
      var user = el("div", "try-msg user");
      user.appendChild(el("strong", "", "user"));
      user.appendChild(document.createTextNode(message));
      var image = form.elements.image;
      if (image && image.files && image.files.length) {
        user.appendChild(el("span", "muted", " [image: " + image.files[0].name + "]"));
        image.value = "";
      }
      log.appendChild(user);
      var answer = el("div", "try-msg assistant");
      answer.appendChild(el("strong", "", "assistant"));
      var text = document.createTextNode("");
      answer.appendChild(text);
      log.appendChild(answer);
      log.dataset.updates = "0";
      form.elements.message.value = "";
      result.textContent = "";
      send.disabled = true;
      stop.hidden = false;
      controller = new AbortController();
      var finished = false;

      function handle(name, data) {
        if (name === "token") {
          text.appendData(data.text);
          log.dataset.updates = String(Number(log.dataset.updates) + 1);
          log.scrollTop = log.scrollHeight;
        } else if (name === "done") {
          finished = true;
          if (data.history) history.value = JSON.stringify(data.history);
          if (data.error) answer.remove();
          showOutcome(result, data);
        }
      }

      fetch(form.action, {
        method: "POST",
        body: body,
        headers: { Accept: "text/event-stream" },
        signal: controller.signal,
        credentials: "same-origin",
      }).then(function (response) {
        if (!response.ok || !response.body) {
          return response.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            var notice = doc.getElementById("try-notice");
            showOutcome(result, { error: { message: notice ? notice.textContent : "HTTP " + response.status } });
            answer.remove();
          });
        }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (part) {
            if (part.done) return;
            buffer += decoder.decode(part.value, { stream: true });
            var cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              var name = "message";
              var data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) name = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              handle(name, JSON.parse(data || "null"));
            }
            return pump();
          });
        }
        return pump();
      }).catch(function (error) {
        if (!finished) {
          var stopped = error && error.name === "AbortError";
          showOutcome(result, { error: { message: stopped ? "Stopped: the rest of the answer was not read." : String(error) } });
        }
      }).finally(function () {
        send.disabled = false;
        stop.hidden = true;
        controller = null;
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
