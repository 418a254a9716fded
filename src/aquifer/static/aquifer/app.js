// Behaviour that pages ask for with data- attributes instead of inline handlers (onclick=…),
// which the Content-Security-Policy forbids:
//   <select data-autosubmit>   submits its form when the choice changes
//   <button data-print>        prints the page
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();  // as the inline handler did: a plain GET of the form
    }
  });
  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (el) { window.print(); }
  });
})();
