// Models section enhancements. Everything here is optional: without it the
// table still edits, moves (up/down buttons) and bulk-edits through plain forms.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function templates() {
    const node = document.getElementById("param-templates");
    if (!node) return [];
    try { return JSON.parse(node.textContent); } catch (e) { return []; }
  }

  // Model form: show the chosen template's values as placeholders.
  document.addEventListener("change", function (event) {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || !/-use_template$/.test(select.name)) return;
    const card = select.closest("[data-rule]");
    if (!card) return;
    const found = templates().find(function (t) { return t.name === select.value; }) || {};
    ["default", "min", "max", "precision"].forEach(function (key) {
      const input = card.querySelector('[name$="-' + key + '"]');
      if (input) input.placeholder = found[key] === undefined || found[key] === null ? "" : String(found[key]);
    });
    const options = card.querySelector('[name$="-options"]');
    if (options) options.placeholder = (found.options || []).join(", ");
    const name = card.querySelector('[name$="-name"]');
    if (name) name.placeholder = select.value;
  });

  // Bulk form: show only the inputs of the chosen action.
  function syncBulk(root) {
    const form = (root || document).querySelector("#bulk-form");
    if (!form) return;
    const action = form.querySelector("#bulk-action");
    form.dataset.action = action ? action.value : "";
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "bulk-action") syncBulk();
  });

  // Select all rows of a type.
  function addSelectAll(root) {
    (root || document).querySelectorAll("table.models").forEach(function (table) {
      const th = table.querySelector("thead th.sel");
      if (!th || th.querySelector("input")) return;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.setAttribute("aria-label", "Select all " + table.dataset.type + " models");
      box.addEventListener("change", function () {
        table.querySelectorAll('tbody input[name="selected"]').forEach(function (b) { b.checked = box.checked; });
      });
      th.appendChild(box);
    });
  }

  // Drag and drop ordering: drop a row, the type's order is posted at once.
  // The handle is the row's first cell, its selection (drawn by CSS); a filtered table
  // has no data-reorder, as its order would leave out the hidden models.
  let dragged = null;
  document.addEventListener("mousedown", function (event) {
    const cell = event.target.closest && event.target.closest("table.models[data-reorder] td");
    if (!cell || cell !== cell.parentNode.firstElementChild || event.target.tagName === "INPUT") return;
    const row = cell.closest("tr.mrow");
    if (row && !row.classList.contains("editing")) row.draggable = true;
  });
  document.addEventListener("dragstart", function (event) {
    const row = event.target.closest && event.target.closest("tr.mrow");
    if (!row || !row.draggable) return;
    dragged = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.model);
  });
  document.addEventListener("dragover", function (event) {
    const row = event.target.closest && event.target.closest("tr.mrow");
    if (!dragged || !row || row.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    const box = row.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
  });
  document.addEventListener("dragend", function () {
    if (!dragged) return;
    const row = dragged;
    dragged = null;
    row.classList.remove("dragging");
    row.draggable = false;
    const table = row.closest("table.models");
    const section = document.getElementById("models-section");
    const lock = document.getElementById("bulk-lock");
    if (!table || !section || !lock || !window.htmx) return;
    const order = Array.from(table.querySelectorAll("tbody tr.mrow")).map(function (r) { return r.dataset.model; });
    window.htmx.ajax("POST", section.dataset.reorderUrl, {
      target: "#models-section",
      swap: "outerHTML",
      values: { lock_version: lock.value, model_type: table.dataset.type, order: order },
    });
  });

  // Row menus: opened the first time, a menu fetches its items from the link
  // it holds for pages without JavaScript (the row carries no URL twice).
  function loadMenu(menu) {
    const items = menu.querySelector(":scope > div");
    const link = items && items.querySelector(":scope > a[href]");
    if (!link || menu.dataset.loaded || !window.htmx) return;
    menu.dataset.loaded = "1";
    window.htmx.ajax("GET", link.href, { source: menu, target: items, swap: "innerHTML" });
  }

  // Opening a row menu loads its items (js/menus.js closes the others).
  document.addEventListener("toggle", function (event) {
    const menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("menu") || !menu.open) return;
    loadMenu(menu);
  }, true);

  function init(root) { syncBulk(root); addSelectAll(root); }
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
