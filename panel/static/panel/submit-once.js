// Forms marked data-submit-once send once: a second click while the first request is on its way
// does nothing, and the buttons show it. The server refuses a repeat anyway (one-time form
// tokens, accounts/form_tokens.py); this spares people a confusing second answer.
(function () {
  "use strict";
  var BUTTONS = "button[type=submit], button:not([type]), input[type=submit]";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-submit-once")) return;
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault();
      return;
    }
    if (event.defaultPrevented) return;  // another handler kept the form from going
    form.setAttribute("data-submitting", "");
    // Disabled only after the browser has collected the fields, so the clicked button's own
    // name and value still go with the request.
    window.setTimeout(function () {
      form.querySelectorAll(BUTTONS).forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    }, 0);
  });

  // Coming back to a page the browser kept (the Back button): the form works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll("[aria-busy]").forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    });
  });
})();
