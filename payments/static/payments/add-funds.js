// The add-funds page watches for the money: it polls a small JSON endpoint and, when a newer
// credited deposit appears, shows the new balance. Polling slows down while the tab is hidden.
(function () {
  "use strict";
  var watch = document.getElementById("deposit-watch");
  if (!watch || !window.fetch) return;
  var url = watch.getAttribute("data-status-url");
  var last = parseInt(watch.getAttribute("data-last"), 10) || 0;
  var doneText = watch.getAttribute("data-done-text");
  var stopped = false;

  function show(data) {
    document.getElementById("deposit-done").textContent = doneText + " " + data.balance_text + ".";
    watch.hidden = false;
    var badge = document.querySelector(".topbar .balance");
    if (badge) badge.textContent = data.balance_text;
  }

  function poll() {
    if (stopped) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.last_deposit_id > last) {
          last = data.last_deposit_id;
          show(data);
        }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ })
      .then(function () { setTimeout(poll, document.hidden ? 15000 : 4000); });
  }
  setTimeout(poll, 4000);
  window.addEventListener("pagehide", function () { stopped = true; });
})();
