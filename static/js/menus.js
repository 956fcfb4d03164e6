// <details class="menu"> dropdowns (the Settings menu, the models table's row
// menus): one open at a time, closed by Escape or a click elsewhere. Without
// this file they still open and close with their summary.
(function () {
  "use strict";
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except && !menu.contains(except)) menu.open = false;
    });
  }
  document.addEventListener("toggle", function (event) {
    const menu = event.target;
    if (menu instanceof HTMLDetailsElement && menu.classList.contains("menu") && menu.open) {
      closeMenus(menu);
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("details.menu")) closeMenus(null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const menu = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("details.menu[open]")
      : null;
    const open = menu || document.querySelector("details.menu[open]");
    if (!open) return;
    open.open = false;
    const summary = open.querySelector("summary");
    if (summary) summary.focus();
  });
})();
