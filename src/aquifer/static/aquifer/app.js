// Behaviour that pages ask for with data- attributes instead of inline handlers (onclick=…),
// which the Content-Security-Policy forbids:
//   <select data-autosubmit>   submits its form when the choice changes
//   <button data-print>        prints the page
// and the main menu (base.html): one group open at a time, closed by Escape or a click
// elsewhere; under 800 px the menu button folds the whole menu (without this script the menu
// stays unfolded, each group a <details>).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();  // as the inline handler did: a plain GET of the form
    }
  });
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (target && target.closest("[data-print]")) { window.print(); }
    var button = target ? target.closest(".menu-button") : null;
    if (button) {
      var bar = button.closest(".topbar");
      var open = bar.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    document.querySelectorAll(".nav-group[open]").forEach(function (group) {
      if (!target || !group.contains(target)) { group.removeAttribute("open"); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll(".nav-group[open]").forEach(function (group) {
      group.removeAttribute("open");
      var summary = group.querySelector("summary");
      if (summary && group.contains(document.activeElement)) { summary.focus(); }
    });
  });
})();
