/* Behaviour every page shares. It lives in a file because the content security policy allows
 * no inline script or event-handler attributes:
 *   <button data-copy="#id">      copies the text (or value) of the element it names;
 *   <form data-confirm="Sure?">   asks before it submits;
 *   <select data-autosubmit>      submits its form when the choice changes;
 *   <nav data-scroll-active>      a row of chips that scrolls sideways shows its chosen chip;
 *   <form data-star>              a favorite's star, sent without leaving the page (the form
 *                                 posts and comes back on its own without this script). */
 *   <form data-dismiss="#id">     posts in the background and hides the element it names
 *                                 (without script the form posts and the page comes back);
 *   <details data-popover>        closes on Escape (focus back on its summary) and on a click
 *                                 outside it, as a menu does. */
(function () {
  "use strict";

  function copied(button) {
    var label = button.textContent;
    button.textContent = document.body.getAttribute("data-copied-label") || label;
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); });
      return;
    }
    var area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); copied(button); } finally { document.body.removeChild(area); }
  });

  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target, target = form.getAttribute("data-dismiss");
    if (!target || !window.fetch) return;
    event.preventDefault();
    var body = new FormData(form);
    body.append("script", "1");
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin" });
    var element = document.querySelector(target);
    if (element) element.hidden = true;
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.submit();
  });

  document.querySelectorAll("[data-scroll-active]").forEach(function (row) {
    var active = row.querySelector(".active");
    if (active && row.scrollWidth > row.clientWidth) row.scrollLeft = active.offsetLeft - row.offsetLeft - 8;
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-star]")) return;
    event.preventDefault();
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        var button = form.querySelector("button");
        form.elements.favorite.value = data.favorite ? "0" : "1";
        button.classList.toggle("on", data.favorite);
        button.setAttribute("aria-pressed", data.favorite ? "true" : "false");
        button.title = button.getAttribute(data.favorite ? "data-label-on" : "data-label-off");
      })
      .catch(function () { form.submit(); });
  });
  function closePopovers(keep, refocus) {
    document.querySelectorAll("details[data-popover][open]").forEach(function (details) {
      if (details.contains(keep)) return;
      details.open = false;
      if (refocus) details.querySelector("summary").focus();
    });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePopovers(null, true);
  });
  document.addEventListener("click", function (event) { closePopovers(event.target, false); });
})();
